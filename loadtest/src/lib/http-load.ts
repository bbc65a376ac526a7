// HTTP keep-alive load with autocannon: fixed connections for a fixed time,
// every response time recorded (hrtime, sub-millisecond) so percentiles are
// computed by our own code, the same way for the runner and the bench.

import autocannon from 'autocannon'
import { SampleBuffer, type LatencySummary } from './percentiles.js'

export interface HttpLoadOptions {
  url: string
  /** Paths each connection cycles through (spreads load over several routes); default: the url's own path. */
  paths?: readonly string[]
  connections: number
  durationMs: number
  /** Stop after this many requests instead of after durationMs (npm run bench:instr). */
  amount?: number
  /** Per-request timeout, seconds. */
  timeoutS?: number
  /** Total requests/s over all connections (autocannon's overallRate); default: as fast as answers come. */
  overallRate?: number
  /** Called with every response time (ms), e.g. to keep the raw samples. */
  onResponse?: (ms: number) => void
  /** Called with every response's status and time (ms). */
  onStatus?: (status: number, ms: number) => void
  /** Called with every transport error or timeout. */
  onError?: (message: string) => void
  /** Aborting stops the load early (the result covers what ran). */
  signal?: AbortSignal
  /** Called about once a second with the running totals. */
  onTick?: (live: HttpLoadLive) => void
}

/** Running totals while the load is on. */
export interface HttpLoadLive {
  responses: number
  errors: number
  elapsedMs: number
}

export interface HttpLoadResult {
  url: string
  connections: number
  durationS: number
  /** Responses received (any status). */
  responses: number
  /** Responses with status >= 400. */
  badStatus: number
  /** Transport errors and timeouts. */
  transportErrors: number
  /** (badStatus + transportErrors) / (responses + transportErrors); 0 when nothing was sent. */
  errorRate: number
  rps: number
  /** Response time, ms. */
  latency: LatencySummary
}

/** Runs autocannon against `url` and resolves with the measured result. */
export function runHttpLoad(opts: HttpLoadOptions): Promise<HttpLoadResult> {
  return new Promise((resolve, reject) => {
    const samples = new SampleBuffer(64 * 1024)
    let badStatus = 0
    let errors = 0
    const started = Date.now()
    const instance = autocannon(
      {
        url: opts.url,
        connections: opts.connections,
        duration: Math.max(1, Math.round(opts.durationMs / 1000)),
        ...(opts.amount !== undefined ? { amount: opts.amount } : {}),
        timeout: opts.timeoutS ?? 10,
        pipelining: 1,
        ...(opts.overallRate !== undefined ? { overallRate: opts.overallRate } : {}),
        ...(opts.paths !== undefined && opts.paths.length > 0 ? { requests: opts.paths.map((path) => ({ method: 'GET' as const, path })) } : {}),
      },
      (err: unknown, result: autocannon.Result) => {
        clearInterval(ticker)
        opts.signal?.removeEventListener('abort', onAbort)
        if (err !== null && err !== undefined) {
          reject(err instanceof Error ? err : new Error(String(err)))
          return
        }
        const transportErrors = result.errors
        const responses = samples.length
        const attempts = responses + transportErrors
        resolve({
          url: opts.url,
          connections: opts.connections,
          durationS: result.duration,
          responses,
          badStatus,
          transportErrors,
          errorRate: attempts === 0 ? 0 : (badStatus + transportErrors) / attempts,
          rps: result.duration > 0 ? responses / result.duration : 0,
          latency: samples.summary(),
        })
      },
    )
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      samples.push(responseTime)
      opts.onResponse?.(responseTime)
      opts.onStatus?.(statusCode, responseTime)
      if (statusCode >= 400) badStatus++
    })
    instance.on('reqError', (err: Error) => {
      errors++
      opts.onError?.(err.message)
    })
    const onAbort = (): void => instance.stop()
    if (opts.signal?.aborted === true) instance.stop()
    else opts.signal?.addEventListener('abort', onAbort, { once: true })
    const ticker = setInterval(() => {
      opts.onTick?.({ responses: samples.length, errors: errors + badStatus, elapsedMs: Date.now() - started })
    }, 1000)
    ticker.unref()
  })
}
