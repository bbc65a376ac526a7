// HTTP load generator (child process): one autocannon run against TARGET_URL
// with CONNECTIONS for DURATION_MS; sends counts and every latency over IPC.

import { runHttpLoad } from '../lib/http-load.js'
import { SampleBuffer } from '../lib/percentiles.js'
import { exitWithParent, requireEnv, requireIntEnv, sendToParent } from './protocol.js'

exitWithParent()
const url = requireEnv('TARGET_URL')
const connections = requireIntEnv('CONNECTIONS')
const durationMs = requireIntEnv('DURATION_MS')

const samples = new SampleBuffer(256 * 1024)
const r = await runHttpLoad({ url, connections, durationMs, onResponse: (ms) => samples.push(ms) })
await sendToParent({
  type: 'http-result',
  responses: r.responses,
  errors: r.transportErrors,
  badStatus: r.badStatus,
  durationS: r.durationS,
  latencies: Array.from(samples.values()),
})
// Exit only after the result was flushed to the parent.
process.exit(0)
