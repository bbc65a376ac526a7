// Preloaded into a Node proxy by `npm run bench:alloc` (NODE_OPTIONS=--import).
// SIGUSR2 starts V8's sampling heap profiler, counting objects that were
// already collected too, so the profile is everything allocated, not what
// survived. Once sampling runs it writes an empty `<ALLOC_PROFILE_OUT>.on`;
// the next SIGUSR2 stops it and writes the profile as JSON to
// ALLOC_PROFILE_OUT. The parent divides by the requests it sent meanwhile.

import { Session } from 'node:inspector/promises'
import { renameSync, writeFileSync } from 'node:fs'

const out = process.env['ALLOC_PROFILE_OUT']
if (out !== undefined && out !== '') {
  const session = new Session()
  session.connect()
  // One sample per 4 KiB allocated on average; a proxied request allocates ~10–20 KiB.
  const start = { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true }
  let sampling = false
  let busy = false
  process.on('SIGUSR2', () => {
    if (busy) return
    busy = true
    const step = sampling
      ? session.post('HeapProfiler.stopSampling').then(({ profile }) => {
          // Written aside and renamed, so the parent never reads half a file.
          writeFileSync(`${out}.part`, JSON.stringify(profile))
          renameSync(`${out}.part`, out)
        })
      : session
          .post('HeapProfiler.enable')
          .then(() => session.post('HeapProfiler.startSampling', start))
          .then(() => writeFileSync(`${out}.on`, ''))
    step.then(
      () => {
        sampling = !sampling
        busy = false
      },
      (err: unknown) => {
        process.stderr.write(`alloc-sampler: ${String(err)}\n`)
        busy = false
      },
    )
  })
}
