// A drain deadline as people write it: relative (`15m`, `90s`, `2h`, `500ms`)
// or an ISO time. Shared by `npm run deployments -- drain --deadline` and the
// admin dashboard's drain action. Pure.

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const

/** The deadline in epoch ms, or undefined when `text` is neither form. */
export function parseDeadline(text: string, nowMs: number): number | undefined {
  const rel = /^(\d{1,9})(ms|s|m|h)$/.exec(text)
  if (rel?.[1] !== undefined && rel[2] !== undefined) return nowMs + Number(rel[1]) * UNIT_MS[rel[2] as keyof typeof UNIT_MS]
  // Only ISO-looking times: Date.parse also reads forms such as "1" or "May 5".
  if (!/^\d{4}-\d{2}-\d{2}T/.test(text)) return undefined
  const abs = Date.parse(text)
  return Number.isNaN(abs) ? undefined : abs
}
