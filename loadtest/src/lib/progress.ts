// A live one-line progress display: rewrites a single line on a TTY, prints a
// line at a slower cadence otherwise (CI logs), and clears itself when done.

import type { Writable } from 'node:stream'

export interface ProgressOptions {
  /** Where to draw; defaults to process.stderr. */
  stream?: Writable & { isTTY?: boolean; columns?: number }
  /** Redraw period on a TTY, ms. */
  intervalMs?: number
  /** Period between plain lines when not a TTY, ms. */
  plainIntervalMs?: number
}

/** Draws `render()` periodically until `stop()` is called. */
export class ProgressLine {
  readonly #render: () => string
  readonly #stream: Writable & { isTTY?: boolean; columns?: number }
  readonly #tty: boolean
  #timer: NodeJS.Timeout | undefined
  #lastLength = 0

  constructor(render: () => string, options: ProgressOptions = {}) {
    this.#render = render
    this.#stream = options.stream ?? process.stderr
    this.#tty = this.#stream.isTTY === true
    const period = this.#tty ? (options.intervalMs ?? 250) : (options.plainIntervalMs ?? 5000)
    this.#timer = setInterval(() => this.draw(), period)
    this.#timer.unref()
  }

  /** Draws the current line now. */
  draw(): void {
    const text = this.#render()
    if (this.#tty) {
      const max = Math.max(20, (this.#stream.columns ?? 120) - 1)
      const line = text.length > max ? text.slice(0, max - 1) + '…' : text
      this.#stream.write('\r' + line + ' '.repeat(Math.max(0, this.#lastLength - line.length)))
      this.#lastLength = line.length
    } else {
      this.#stream.write(text + '\n')
    }
  }

  /** Stops redrawing and clears the line (TTY) so the next output starts clean. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer)
    this.#timer = undefined
    if (this.#tty && this.#lastLength > 0) this.#stream.write('\r' + ' '.repeat(this.#lastLength) + '\r')
    this.#lastLength = 0
  }
}

/** Formats a duration in ms as "12.3s" / "2m05s". */
export function formatElapsed(ms: number): string {
  const s = ms / 1000
  if (s < 60) return `${s.toFixed(1)}s`
  const m = Math.floor(s / 60)
  return `${m}m${String(Math.floor(s - m * 60)).padStart(2, '0')}s`
}
