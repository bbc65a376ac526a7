// A reader for the Prometheus text exposition format, enough for the admin
// dashboard to read the router's own /metrics output (one registry, or the
// cluster primary's aggregate across workers): sample lines of the wanted
// metric names, with their labels and values. Comments, timestamps and other
// metrics are skipped; a line it cannot read is skipped too.

export interface Sample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/

/** Samples of the metrics named in `wanted`, in the order they appear. */
export function readSamples(text: string, wanted: ReadonlySet<string>): Sample[] {
  const out: Sample[] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const m = NAME.exec(line)
    if (m === null || !wanted.has(m[0])) continue
    const s = parseLine(line, m[0])
    if (s !== undefined) out.push(s)
  }
  return out
}

function parseLine(line: string, name: string): Sample | undefined {
  let i = name.length
  const labels: Record<string, string> = {}
  if (line[i] === '{') {
    i++
    for (;;) {
      while (line[i] === ' ' || line[i] === ',') i++
      if (line[i] === '}') {
        i++
        break
      }
      const key = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(line.slice(i))
      if (key === null || line[i + key[0].length] !== '=' || line[i + key[0].length + 1] !== '"') return undefined
      i += key[0].length + 2
      let value = ''
      for (;;) {
        const c = line[i]
        if (c === undefined) return undefined
        i++
        if (c === '"') break
        if (c === '\\') {
          const n = line[i]
          i++
          value += n === 'n' ? '\n' : (n ?? '')
        } else value += c
      }
      labels[key[0]] = value
    }
  }
  const rest = line.slice(i).trim().split(/\s+/)
  const raw = rest[0]
  if (raw === undefined) return undefined
  const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw)
  if (Number.isNaN(value) && raw !== 'NaN') return undefined
  return { name, labels, value }
}
