// Where the live route table comes from: the built-ins alone, or ROUTES_FILE
// read at start (a bad file stops the start) and re-read when it changes —
// fs.watch on its directory, plus a poll (ROUTES_POLL_MS) for what watch
// misses (symlink swaps of mounted config, network file systems, inotify
// limits). The table is swapped whole; an unchanged text is dropped; a bad
// file keeps the last good table and logs one JSON line saying why (once per
// distinct text). The only module of routing/ that does I/O.

import { EventEmitter } from 'node:events'
import { readFileSync, watch, type FSWatcher } from 'node:fs'
import { basename, dirname } from 'node:path'
import { realClock, type Clock } from '../clock.js'
import type { Logger } from '../log.js'
import { routeView } from './route.js'
import { parseRouteFile } from './route-file.js'
import { defaultRoutes, tableFromFile, type BuiltinOptions, type RouteTable } from './routes.js'

export interface RouteSourceOptions {
  /** ROUTES_FILE; undefined = the built-in routes only. */
  readonly file: string | undefined
  readonly builtins: BuiltinOptions
  /** Poll interval for changes; 0 = no polling. */
  readonly pollMs: number
  /** Use fs.watch too (default true). */
  readonly watch?: boolean
  readonly logger: Logger
  readonly clock?: Clock
}

export type ReloadResult = { readonly ok: true; readonly routes: number } | { readonly ok: false; readonly error: string }

/** Emits 'reload' (ReloadResult) after each change of the file's text was applied or rejected. */
export class RouteSource extends EventEmitter {
  #table: RouteTable
  readonly #o: RouteSourceOptions
  readonly #clock: Clock
  /** The text last read (good or bad), to drop unchanged reads. */
  #text: string | undefined
  #loadedAt: string
  #lastError: string | undefined
  #watcher: FSWatcher | undefined
  #timer: unknown

  /** Throws (RouteFileError or the read error) when ROUTES_FILE is unusable at start. */
  constructor(opts: RouteSourceOptions) {
    super()
    this.#o = opts
    this.#clock = opts.clock ?? realClock
    this.#loadedAt = new Date().toISOString()
    const file = opts.file
    if (file === undefined) {
      this.#table = defaultRoutes({ ...opts.builtins })
      return
    }
    const text = readFileSync(file, 'utf8')
    this.#table = tableFromFile(parseRouteFile(text), opts.builtins)
    this.#text = text
    if (opts.watch !== false) this.#watch(file)
    if (opts.pollMs > 0) this.#timer = this.#clock.setInterval(() => this.check(), opts.pollMs)
  }

  /** The current table (never undefined). */
  get table(): RouteTable {
    return this.#table
  }

  #watch(file: string): void {
    const name = basename(file)
    try {
      // The directory, not the file: an atomic replace (write + rename) is a new inode.
      this.#watcher = watch(dirname(file), { persistent: false }, (_event, changed) => {
        if (changed === null || changed === name) this.check()
      })
      this.#watcher.on('error', (err) => {
        this.#o.logger.log('warn', 'route file watch failed; polling only', { file, error: String(err) })
        this.#watcher?.close()
        this.#watcher = undefined
      })
    } catch (err) {
      this.#o.logger.log('warn', 'route file watch unavailable; polling only', { file, error: String(err) })
    }
  }

  /** Re-read the file now; apply it when its text changed. Synchronous. */
  check(): void {
    const file = this.#o.file
    if (file === undefined) return
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch (err) {
      this.#reject(`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`, undefined)
      return
    }
    if (text === this.#text) return
    let table: RouteTable
    try {
      table = tableFromFile(parseRouteFile(text), this.#o.builtins)
    } catch (err) {
      this.#reject(err instanceof Error ? err.message : String(err), text)
      return
    }
    this.#text = text
    this.#table = table
    this.#lastError = undefined
    this.#loadedAt = new Date().toISOString()
    this.#o.logger.log('info', 'route table reloaded', { file, routes: table.routes.length })
    this.emit('reload', { ok: true, routes: table.routes.length } satisfies ReloadResult)
  }

  #reject(error: string, text: string | undefined): void {
    const repeat = text !== undefined ? text === this.#text : error === this.#lastError
    if (text !== undefined) this.#text = text
    if (repeat) return
    this.#lastError = error
    this.#o.logger.log('error', 'route file rejected; keeping the last good table', { file: this.#o.file, error })
    this.emit('reload', { ok: false, error } satisfies ReloadResult)
  }

  /** For /admin/routes. */
  view(): Record<string, unknown> {
    return {
      file: this.#o.file ?? null,
      loadedAt: this.#loadedAt,
      lastError: this.#lastError ?? null,
      routes: this.#table.routes.map(routeView),
    }
  }

  close(): void {
    this.#watcher?.close()
    this.#watcher = undefined
    if (this.#timer !== undefined) this.#clock.clearInterval(this.#timer)
    this.#timer = undefined
  }
}
