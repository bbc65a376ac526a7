// Child process: one media node on 127.0.0.1 (port 0, no Cloud Map
// registration, heartbeat off), reporting its port and open-files limit to the
// scale orchestrator over IPC. Exits when the orchestrator goes away.

import { startMediaNode } from '../../../media-node/src/index.js'
import { fdLimit } from './procfs.js'
import { sendToParent } from './messages.js'

const nodeId = process.env['SCALE_NODE_ID'] ?? ''
if (!/^[a-z0-9-]{1,63}$/.test(nodeId)) {
  process.stderr.write(`SCALE_NODE_ID must be a DNS label, got "${nodeId}"\n`)
  process.exit(2)
}

const node = await startMediaNode({
  nodeId,
  host: '127.0.0.1',
  port: 0,
  heartbeatIntervalMs: 0,
  registration: false,
  log: (e) => {
    if (e['level'] === 'error' || e['level'] === 'warn') process.stderr.write(`${JSON.stringify(e)}\n`)
  },
})

let closing = false
const shutdown = (): void => {
  if (closing) return
  closing = true
  const hard = setTimeout(() => process.exit(0), 5_000)
  hard.unref()
  node.close().then(
    () => process.exit(0),
    () => process.exit(1),
  )
}
process.on('disconnect', shutdown)
process.on('SIGTERM', shutdown)

await sendToParent({ type: 'media-ready', port: node.port, fdLimit: fdLimit('self') })
