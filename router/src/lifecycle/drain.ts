// Router shutdown without dropped work. On SIGTERM: /health turns 503 at once;
// the router keeps serving for `delayMs` (the ALB notices and stops sending);
// then stops accepting, lets in-flight HTTP finish (bounded), keeps WebSockets
// until they end or `timeoutMs` passes, then sends each side a close frame
// 1001 "Going Away" (masked towards the upstream) and closes.

import type { Router } from '../router.js'

export interface DrainOptions {
  readonly delayMs: number
  readonly httpTimeoutMs: number
  readonly timeoutMs: number
  /** Time allowed for peers to answer the 1001 close before sockets are cut. */
  readonly closeGraceMs?: number
}

/** What the hard limit adds to the drain timeouts (the 1001 close grace and closing fit in it). */
export const DRAIN_HARD_LIMIT_MARGIN_MS = 10_000

/**
 * The longest a drain may take before the process gives up and exits 1: the
 * delay, in-flight HTTP and WebSockets are waited for one after the other,
 * plus the margin. A container stop timeout at least this long never SIGKILLs
 * a draining router.
 */
export function drainHardLimitMs(opts: Pick<DrainOptions, 'delayMs' | 'httpTimeoutMs' | 'timeoutMs'>): number {
  return opts.delayMs + opts.httpTimeoutMs + opts.timeoutMs + DRAIN_HARD_LIMIT_MARGIN_MS
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

async function until(cond: () => boolean, timeoutMs: number, stepMs = 50): Promise<boolean> {
  const end = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() >= end) return false
    await sleep(Math.min(stepMs, Math.max(1, end - Date.now())))
  }
  return true
}

/** Run the whole drain sequence, then close the router. */
export async function drainRouter(router: Router, opts: DrainOptions): Promise<void> {
  const log = router.logger
  const main = router.main
  router.setServing(false)
  log.log('info', 'draining: /health is 503', { delayMs: opts.delayMs, inflight: main.inflight, websockets: main.ws.tunnels.size })
  await sleep(opts.delayMs)

  main.stopAccepting()
  log.log('info', 'draining: stopped accepting', { inflight: main.inflight, websockets: main.ws.tunnels.size })
  const httpDone = await until(() => main.inflight === 0, opts.httpTimeoutMs)
  if (!httpDone) log.log('warn', 'draining: in-flight HTTP did not finish in time', { inflight: main.inflight })
  main.server.closeAllConnections()

  const wsDone = await until(() => main.ws.tunnels.size === 0, opts.timeoutMs, 250)
  if (!wsDone) {
    const n = main.ws.tunnels.size
    log.log('info', 'draining: closing remaining WebSockets with 1001', { websockets: n })
    main.ws.goAwayAll(1001, 'router shutting down')
    await until(() => main.ws.tunnels.size === 0, opts.closeGraceMs ?? 3000)
  }
  await router.close()
  log.log('info', 'drained', {})
  log.flush()
}
