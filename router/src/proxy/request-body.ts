// Reading a client's request body for forwarding (issue 13, item 3: slow
// clients cannot starve an upstream). The first REQUEST_BUFFER_BYTES are read
// before any upstream connection is taken, as nginx's request buffering does:
// a body that ends within them goes up as one Buffer (and can be replayed on a
// retry); a longer one goes up as a stream that starts with what was read.
// Throughout, the body's bytes must keep coming: at most
// CLIENT_BODY_GAP_TIMEOUT_MS between chunks, and on average at least
// CLIENT_BODY_MIN_RATE bytes/s after a first gap's worth of grace (Apache
// mod_reqtimeout's MinRate) — else 408 REQUEST_TIMEOUT. Time the router itself
// holds the client back (the upstream not reading: backpressure) does not
// count. A body without Content-Length over MAX_BODY_BYTES is 413. One sweep
// timer per router checks every body in flight; the clock is injected.

import type { IncomingMessage } from 'node:http'
import { Readable } from 'node:stream'
import { PayloadTooLargeError, RequestTimeoutError } from '../errors.js'
import { realClock, type Clock } from '../clock.js'

export interface BodyLimits {
  /** 0 = unlimited. */
  readonly maxBodyBytes: number
  /** Read this much before taking an upstream connection. */
  readonly bufferBytes: number
  /** Longest pause between body chunks; 0 = none. */
  readonly gapTimeoutMs: number
  /** Minimum average bytes/s after the first `gapTimeoutMs`; 0 = none. */
  readonly minRate: number
}

export type BodyVerdict = 'ok' | 'gap' | 'slow'

/**
 * Is a body arriving fast enough? `activeMs`: time since the body started,
 * less the time the router held the client back; `idleMs`: since the last
 * chunk (or since the router stopped holding it back).
 */
export function bodyVerdict(activeMs: number, idleMs: number, received: number, limits: Pick<BodyLimits, 'gapTimeoutMs' | 'minRate'>): BodyVerdict {
  if (limits.gapTimeoutMs > 0 && idleMs > limits.gapTimeoutMs) return 'gap'
  // mod_reqtimeout's rule: the allowance starts at one gap and grows by a second per `minRate` bytes.
  if (limits.minRate > 0 && activeMs > limits.gapTimeoutMs + (received * 1000) / limits.minRate) return 'slow'
  return 'ok'
}

/** The part of the router's clock the watch uses. */
export type WatchClock = Pick<Clock, 'now' | 'setInterval' | 'clearInterval'>

/** What the watch needs of a body in flight. */
interface Watched {
  check(now: number): void
}

/** The one timer that checks every body in flight; runs only while there is one. */
export class BodyWatch {
  readonly #bodies = new Set<Watched>()
  readonly #clock: WatchClock
  readonly #periodMs: number
  #timer: unknown = undefined

  constructor(readonly limits: BodyLimits, clock: WatchClock = realClock) {
    this.#clock = clock
    // A quarter of the gap, within 50 ms … 1 s: a body is cut at most a period late.
    this.#periodMs = Math.max(50, Math.min(1000, Math.floor((limits.gapTimeoutMs > 0 ? limits.gapTimeoutMs : 4000) / 4)))
  }

  get clock(): WatchClock {
    return this.#clock
  }

  get size(): number {
    return this.#bodies.size
  }

  add(b: Watched): void {
    if (this.limits.gapTimeoutMs === 0 && this.limits.minRate === 0) return
    this.#bodies.add(b)
    this.#timer ??= this.#clock.setInterval(() => this.#sweep(), this.#periodMs)
  }

  delete(b: Watched): void {
    if (!this.#bodies.delete(b) || this.#bodies.size > 0 || this.#timer === undefined) return
    this.#clock.clearInterval(this.#timer)
    this.#timer = undefined
  }

  #sweep(): void {
    const now = this.#clock.now()
    for (const b of this.#bodies) b.check(now)
  }
}

/** The stream undici reads a long body from: what was buffered, then the rest as it arrives. */
class ForwardStream extends Readable {
  readonly #owner: RequestBody
  constructor(owner: RequestBody) {
    super({ highWaterMark: 64 * 1024 })
    this.#owner = owner
  }
  override _read(): void {
    this.#owner.resumeSource()
  }
  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.#owner.streamGone()
    cb(err)
  }
}

/** The body of one request, read as above. `body()` resolves with what to hand undici. */
export class RequestBody implements Watched {
  readonly #req: IncomingMessage
  readonly #watch: BodyWatch
  #received = 0
  #startedAt: number
  #lastAt: number
  /** Time the router held the client back (the stream was full). */
  #heldMs = 0
  #heldSince = -1
  #chunks: Buffer[] | null = []
  #stream: ForwardStream | null = null
  #failed: Error | null = null
  #resolve: ((b: Buffer | Readable) => void) | null = null
  #reject: ((e: Error) => void) | null = null
  readonly #onData = (chunk: Buffer): void => this.#data(chunk)
  readonly #onEnd = (): void => this.#end()
  readonly #onAborted = (): void => {
    if (!this.#req.complete) this.#fail(Object.assign(new Error('the client closed the connection'), { name: 'AbortError' }))
  }

  constructor(req: IncomingMessage, watch: BodyWatch) {
    this.#req = req
    this.#watch = watch
    this.#startedAt = this.#lastAt = watch.clock.now()
  }

  /** Read the first REQUEST_BUFFER_BYTES; resolves with the whole body as a Buffer, or a stream of it. Rejects with 408/413 errors or an AbortError. */
  body(): Promise<Buffer | Readable> {
    return new Promise((resolve, reject) => {
      this.#resolve = resolve
      this.#reject = reject
      const req = this.#req
      if (req.readableEnded) {
        this.#end()
        return
      }
      req.on('data', this.#onData)
      req.on('end', this.#onEnd)
      req.on('error', this.#onAborted)
      req.on('close', this.#onAborted)
      this.#watch.add(this)
    })
  }

  /** The error that stopped the body (408, 413, abort), if any. */
  get failure(): Error | null {
    return this.#failed
  }

  check(now: number): void {
    if (this.#heldSince >= 0) return
    const verdict = bodyVerdict(now - this.#startedAt - this.#heldMs, now - this.#lastAt, this.#received, this.#watch.limits)
    if (verdict !== 'ok') this.#fail(new RequestTimeoutError(verdict === 'gap' ? 'the client paused sending the request body for too long' : 'the client sent the request body too slowly'))
  }

  /** The stream wants more: let the client send again. */
  resumeSource(): void {
    if (this.#heldSince >= 0) {
      const now = this.#watch.clock.now()
      this.#heldMs += now - this.#heldSince
      this.#lastAt = now
      this.#heldSince = -1
    }
    if (this.#failed === null) this.#req.resume()
  }

  /** undici is done with the stream (sent, or the request failed): stop feeding it; later bytes are read and dropped. */
  streamGone(): void {
    this.#stream = null
    if (this.#heldSince >= 0) {
      this.#heldSince = -1
      if (this.#failed === null) this.#req.resume()
    }
  }

  #data(chunk: Buffer): void {
    if (this.#failed !== null) return
    this.#received += chunk.length
    this.#lastAt = this.#watch.clock.now()
    const max = this.#watch.limits.maxBodyBytes
    if (max > 0 && this.#received > max) {
      this.#fail(new PayloadTooLargeError(max))
      return
    }
    const chunks = this.#chunks
    if (chunks !== null) {
      chunks.push(chunk)
      if (this.#received > this.#watch.limits.bufferBytes) this.#startStreaming(chunks)
      return
    }
    const stream = this.#stream
    if (stream !== null && !stream.push(chunk)) this.#hold()
  }

  /** Past the buffer: hand undici a stream that starts with what was read. */
  #startStreaming(chunks: Buffer[]): void {
    this.#chunks = null
    const stream = new ForwardStream(this)
    this.#stream = stream
    let full = false
    for (const c of chunks) full = !stream.push(c)
    if (full) this.#hold()
    this.#settle(stream)
  }

  #hold(): void {
    this.#req.pause()
    if (this.#heldSince < 0) this.#heldSince = this.#watch.clock.now()
  }

  #end(): void {
    this.#detach()
    const chunks = this.#chunks
    if (chunks !== null) {
      this.#chunks = null
      this.#settle(chunks.length === 1 && chunks[0] !== undefined ? chunks[0] : Buffer.concat(chunks))
    } else this.#stream?.push(null)
  }

  #fail(err: Error): void {
    if (this.#failed !== null) return
    this.#failed = err
    this.#detach()
    this.#chunks = null
    const stream = this.#stream
    this.#stream = null
    // Undici reading the stream sees the error and abandons the upstream request.
    stream?.destroy(err)
    if (this.#reject !== null) {
      const reject = this.#reject
      this.#resolve = this.#reject = null
      reject(err)
    }
  }

  #settle(b: Buffer | Readable): void {
    const resolve = this.#resolve
    this.#resolve = this.#reject = null
    resolve?.(b)
  }

  #detach(): void {
    this.#watch.delete(this)
    const req = this.#req
    req.removeListener('end', this.#onEnd)
    req.removeListener('error', this.#onAborted)
    req.removeListener('close', this.#onAborted)
    req.removeListener('data', this.#onData)
  }
}
