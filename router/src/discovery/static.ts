// Static discovery from a JSON file: {"services": {"<name>": [{"id", "host",
// "port", "attributes"?}]}}. The file is parsed into typed endpoints; it is
// re-read when it changes, and a bad file keeps the last good table.

import { readFileSync, statSync, type Stats } from 'node:fs'
import type { Discovery, Endpoint, Resolution, Target } from './discovery.js'
import { TargetNotFoundError } from '../errors.js'

export type StaticTable = ReadonlyMap<string, readonly Endpoint[]>

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Parse the file's JSON text into a table, or throw an Error saying what is wrong. */
export function parseStaticTable(text: string): StaticTable {
  const doc: unknown = JSON.parse(text)
  if (!isRecord(doc) || !isRecord(doc.services)) throw new Error('expected {"services": {...}}')
  const table = new Map<string, Endpoint[]>()
  for (const [service, list] of Object.entries(doc.services)) {
    if (!Array.isArray(list)) throw new Error(`services.${service} must be an array`)
    const endpoints: Endpoint[] = []
    list.forEach((item: unknown, i) => {
      const where = `services.${service}[${i}]`
      if (!isRecord(item)) throw new Error(`${where} must be an object`)
      const { host, port, id, attributes } = item
      if (typeof host !== 'string' || host === '') throw new Error(`${where}.host must be a non-empty string`)
      if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${where}.port must be 1-65535`)
      if (id !== undefined && typeof id !== 'string') throw new Error(`${where}.id must be a string`)
      const attrs: Record<string, string> = {}
      if (attributes !== undefined) {
        if (!isRecord(attributes)) throw new Error(`${where}.attributes must be an object`)
        for (const [k, v] of Object.entries(attributes)) {
          if (typeof v !== 'string') throw new Error(`${where}.attributes.${k} must be a string`)
          attrs[k] = v
        }
      }
      endpoints.push({ id: id ?? `${host}:${port}`, host, port, attributes: attrs })
    })
    // Looked up in lower case, as captures are (DNS names have no case).
    table.set(service.toLowerCase(), endpoints)
  }
  return table
}

export interface StaticDiscoveryOptions {
  readonly file: string
  /** TTL reported for answers. */
  readonly ttlSeconds?: number
  /** Poll interval for file changes; 0 disables watching. */
  readonly watchIntervalMs?: number
  readonly onReload?: (result: { ok: true; services: number } | { ok: false; error: string }) => void
}

export class StaticDiscovery implements Discovery {
  readonly name = 'static'
  #table: StaticTable
  readonly #opts: StaticDiscoveryOptions
  /** The file's stat as of the last read; taken before reading, so no later write is missed. */
  #seen: string
  readonly #timer: NodeJS.Timeout | undefined

  /** Throws when the file cannot be read or parsed at start-up. */
  constructor(opts: StaticDiscoveryOptions) {
    this.#opts = opts
    // fs.watchFile takes its first stat asynchronously, so a write in between went unnoticed; poll ourselves.
    this.#seen = fingerprint(statSync(opts.file))
    this.#table = parseStaticTable(readFileSync(opts.file, 'utf8'))
    const interval = opts.watchIntervalMs ?? 1000
    this.#timer = interval > 0 ? setInterval(() => this.#poll(), interval).unref() : undefined
  }

  #poll(): void {
    let now: string
    try {
      const st = statSync(this.#opts.file, { throwIfNoEntry: false })
      now = st === undefined ? 'missing' : fingerprint(st)
    } catch (err) {
      now = `unreadable: ${err instanceof Error ? err.message : String(err)}`
    }
    if (now === this.#seen) return
    this.#seen = now
    this.reload()
  }

  /** Re-read the file; keep the last good table when it is bad. */
  reload(): void {
    try {
      this.#table = parseStaticTable(readFileSync(this.#opts.file, 'utf8'))
      this.#opts.onReload?.({ ok: true, services: this.#table.size })
    } catch (err) {
      this.#opts.onReload?.({ ok: false, error: err instanceof Error ? err.message : String(err) })
    }
  }

  async resolve(target: Target): Promise<Resolution> {
    const list = this.#table.get(target.service.toLowerCase())
    if (list === undefined) throw new TargetNotFoundError(`service ${target.service}`)
    const ttlSeconds = this.#opts.ttlSeconds ?? 1
    if (target.kind === 'service') return { endpoints: list, ttlSeconds }
    const one = list.filter((e) => e.id === target.instanceId || e.id.toLowerCase() === target.instanceId.toLowerCase())
    if (one.length === 0) throw new TargetNotFoundError(`${target.service} instance ${target.instanceId}`)
    return { endpoints: one, ttlSeconds }
  }

  async close(): Promise<void> {
    clearInterval(this.#timer)
  }
}

function fingerprint(st: Stats): string {
  return `${st.ino}:${st.size}:${st.mtimeMs}`
}
