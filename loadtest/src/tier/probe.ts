// One HTTP request on a fresh connection (no pooling, so a probe's time is
// its own), bounded by a timeout: for readiness waits, admin calls and the
// partition probes. Never throws: a transport error is status 0.

import { request } from 'node:http'
import { isRecord } from '../lib/guards.js'

export interface ProbeResult {
  status: number
  ms: number
  body: string
  error?: string
}

export function httpCall(url: string, opts: { method?: string; timeoutMs?: number; headers?: Record<string, string>; body?: string } = {}): Promise<ProbeResult> {
  const start = Date.now()
  return new Promise((resolve) => {
    let settled = false
    const done = (r: ProbeResult): void => {
      if (settled) return
      settled = true
      resolve(r)
    }
    const req = request(url, { method: opts.method ?? 'GET', agent: false, headers: opts.headers, timeout: opts.timeoutMs ?? 5000 }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => (body += d.length + body.length > 65_536 ? '' : d))
      res.on('end', () => done({ status: res.statusCode ?? 0, ms: Date.now() - start, body }))
      res.on('error', (err) => done({ status: 0, ms: Date.now() - start, body, error: err.message }))
    })
    req.on('timeout', () => req.destroy(new Error(`timed out after ${opts.timeoutMs ?? 5000} ms`)))
    req.on('error', (err) => done({ status: 0, ms: Date.now() - start, body: '', error: err.message }))
    req.end(opts.body)
  })
}

/** The `code` of a JSON error body, if it is one. */
export function errorCode(body: string): string | undefined {
  try {
    const v: unknown = JSON.parse(body)
    return isRecord(v) && typeof v['code'] === 'string' ? v['code'] : undefined
  } catch {
    return undefined
  }
}

/** Polls `check` every 100 ms until it is true; throws with `what` after `timeoutMs`. */
export async function waitUntil(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<number> {
  const start = Date.now()
  for (;;) {
    if (await check()) return Date.now() - start
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}
