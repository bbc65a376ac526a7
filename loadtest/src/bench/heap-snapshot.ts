// Reads a V8 heap snapshot (.heapsnapshot JSON) into a count and self size
// per object type, and divides the difference of two snapshots by the number
// of connections opened between them: what each connection keeps on the heap.
// Pure; the snapshot's layout is checked as it is read.

import { isRecord } from '../lib/guards.js'

export interface TypeTotal {
  count: number
  bytes: number
}

export interface HeapSummary {
  totalBytes: number
  /** Keyed by type: the constructor name for objects, "(string)", "(code)", "(array) name", "(native) name"… */
  types: Map<string, TypeTotal>
}

export interface PerUnitRow {
  type: string
  /** Objects of this type per unit (connection). */
  count: number
  /** Self bytes of this type per unit. */
  bytes: number
}

function stringArray(v: unknown, what: string): string[] {
  if (!Array.isArray(v) || !v.every((s): s is string => typeof s === 'string')) throw new Error(`heap snapshot: ${what} is not a list of strings`)
  return v
}

/** One field of one node; the nodes array is checked as it is read, not in a separate pass. */
function field(nodes: readonly unknown[], at: number): number {
  const v = nodes[at]
  if (typeof v !== 'number') throw new Error(`heap snapshot: nodes[${at}] is not a number`)
  return v
}

/** The type a node is counted under. Strings of every representation count together. */
function typeKey(kind: string, name: string): string {
  switch (kind) {
    case 'object':
      return name
    case 'string':
    case 'concatenated string':
    case 'sliced string':
      return '(string)'
    case 'code':
      return '(code)'
    case 'closure':
      return '(closure)'
    case 'number':
      return '(number)'
    default:
      return `(${kind}) ${name.length > 60 ? name.slice(0, 60) : name}`
  }
}

/** Sums a snapshot's nodes by type. */
export function summarizeHeapSnapshot(json: string): HeapSummary {
  const parsed: unknown = JSON.parse(json)
  if (!isRecord(parsed) || !isRecord(parsed['snapshot']) || !isRecord(parsed['snapshot']['meta'])) throw new Error('heap snapshot: no snapshot.meta')
  const meta = parsed['snapshot']['meta']
  const fields = stringArray(meta['node_fields'], 'node_fields')
  const nodeTypes = meta['node_types']
  if (!Array.isArray(nodeTypes)) throw new Error('heap snapshot: no node_types')
  const kinds = stringArray(nodeTypes[0], 'node_types[0]')
  const strings = stringArray(parsed['strings'], 'strings')
  const nodes: unknown = parsed['nodes']
  if (!Array.isArray(nodes)) throw new Error('heap snapshot: nodes is not a list')
  const width = fields.length
  const iType = fields.indexOf('type')
  const iName = fields.indexOf('name')
  const iSize = fields.indexOf('self_size')
  if (iType < 0 || iName < 0 || iSize < 0 || width === 0 || nodes.length % width !== 0) throw new Error('heap snapshot: unexpected node layout')
  const types = new Map<string, TypeTotal>()
  let totalBytes = 0
  for (let i = 0; i < nodes.length; i += width) {
    const kind = kinds[field(nodes, i + iType)]
    const name = strings[field(nodes, i + iName)]
    const size = field(nodes, i + iSize)
    if (kind === undefined || name === undefined) throw new Error(`heap snapshot: node ${i / width} names an unknown type or string`)
    const key = typeKey(kind, name)
    const t = types.get(key)
    if (t === undefined) types.set(key, { count: 1, bytes: size })
    else {
      t.count++
      t.bytes += size
    }
    totalBytes += size
  }
  return { totalBytes, types }
}

/** (after − before) ÷ units, per type, largest growth first; types that did not grow are left out. */
export function perUnitGrowth(before: HeapSummary, after: HeapSummary, units: number): { totalBytes: number; rows: PerUnitRow[] } {
  if (units <= 0) throw new Error('perUnitGrowth: units must be positive')
  const rows: PerUnitRow[] = []
  for (const [type, a] of after.types) {
    const b = before.types.get(type) ?? { count: 0, bytes: 0 }
    const bytes = (a.bytes - b.bytes) / units
    if (bytes > 0) rows.push({ type, count: (a.count - b.count) / units, bytes })
  }
  rows.sort((x, y) => y.bytes - x.bytes)
  return { totalBytes: (after.totalBytes - before.totalBytes) / units, rows }
}
