// Reads the router's aggregated Prometheus text from the admin port and picks
// out one gauge: router_websockets_active{route="media"}.

/** Value of `router_websockets_active{route="<route>"}` in Prometheus text; 0 when the series is absent. */
export function parseWsActive(text: string, route: string): number {
  for (const line of text.split('\n')) {
    if (!line.startsWith('router_websockets_active{')) continue
    const m = /^router_websockets_active\{([^}]*)\}\s+(\S+)/.exec(line)
    if (m?.[1] === undefined || m[2] === undefined) continue
    if (!m[1].split(',').includes(`route="${route}"`)) continue
    const v = Number(m[2])
    if (Number.isFinite(v)) return v
  }
  return 0
}

/** Fetches /metrics from the admin port and returns the media route's active WebSockets. */
export async function fetchWsActive(adminPort: number, route = 'media'): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${adminPort}/metrics`, { signal: AbortSignal.timeout(10_000) })
  if (res.status !== 200) throw new Error(`GET /metrics answered ${res.status}`)
  return parseWsActive(await res.text(), route)
}

/**
 * Polls the gauge until it equals `expected` or `timeoutMs` passes; returns
 * the last value read (NaN when no read succeeded).
 */
export async function waitWsActive(adminPort: number, expected: number, timeoutMs: number): Promise<number> {
  const until = Date.now() + timeoutMs
  let last = Number.NaN
  for (;;) {
    try {
      last = await fetchWsActive(adminPort)
    } catch {
      // The admin port may be busy under load; try again until the deadline.
    }
    if (last === expected || Date.now() >= until) return last
    await new Promise((r) => setTimeout(r, 250))
  }
}

/** One reading of the gauge: ms since the wait started, and the value (NaN when the read failed). */
export interface GaugeReading {
  ms: number
  value: number
}

/**
 * Like waitWsActive, but keeps a reading every `everyMs` (for the record of
 * how the gauge fell after a close); returns the readings, the last one last.
 */
export async function traceWsActive(adminPort: number, expected: number, timeoutMs: number, everyMs = 1000): Promise<GaugeReading[]> {
  const start = Date.now()
  const readings: GaugeReading[] = []
  for (;;) {
    let value = Number.NaN
    try {
      value = await fetchWsActive(adminPort)
    } catch {
      // Busy admin port: recorded as NaN, tried again.
    }
    readings.push({ ms: Date.now() - start, value })
    if (value === expected || Date.now() - start >= timeoutMs) return readings
    await new Promise((r) => setTimeout(r, everyMs))
  }
}
