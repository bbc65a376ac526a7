// One kept-alive TCP connection to an upstream and the exchange it is serving:
// writes the request (head, then the body with backpressure), parses the
// response head, decodes the body framing and streams it into the caller's
// sink, then hands itself back to its pool or closes when it cannot be reused.
// Listeners are attached once per connection, not per request.

import { connect, type Socket } from 'node:net'
import { ChunkedDecoder } from './chunked.js'
import { UpstreamClientError, protocolError } from './errors.js'
import { Exchange, Phase, type ExchangeOwner } from './exchange.js'
import { isIdempotent, requestHead, sendsChunked } from './request-head.js'
import { bodyFraming, parseResponseHead } from './response-head.js'

export interface ConnectionOptions {
  readonly connectTimeoutMs: number
  readonly headersTimeoutMs: number
  /** 0 = none. */
  readonly bodyTimeoutMs: number
  readonly keepAliveTimeoutMs: number
  readonly maxHeaderBytes: number
}

/** What a connection tells the pool that owns it. */
export interface ConnectionPool {
  /** The connection finished an exchange and may serve another. */
  released(conn: Connection): void
  /** The connection is gone (called once). */
  closed(conn: Connection): void
  /** Run `ex` again on a fresh connection (a kept-alive one turned out stale). */
  retry(ex: Exchange): void
}

const CRLFCRLF = Buffer.from('\r\n\r\n', 'latin1')
const CRLF = '\r\n'
const LAST_CHUNK = '0\r\n\r\n'

export class Connection implements ExchangeOwner {
  readonly socket: Socket
  exchange: Exchange | null = null
  /** Exchanges started on this connection. */
  uses = 0
  /** performance.now() after which an idle connection is closed. */
  idleUntil = 0
  connecting = true
  readonly connectDeadline: number
  #closed = false
  readonly #pool: ConnectionPool
  readonly #o: ConnectionOptions
  /** Bound once: the decoder's data callback and the sink's drain listener. */
  readonly #writeBody = (chunk: Buffer): void => this.#toSink(chunk)
  readonly #sinkDrained = (): void => {
    const ex = this.exchange
    if (ex !== null) {
      ex.sinkPaused = false
      if (this.#o.bodyTimeoutMs > 0) ex.deadline = performance.now() + this.#o.bodyTimeoutMs
    }
    this.socket.resume()
  }

  constructor(pool: ConnectionPool, opts: ConnectionOptions, host: string, port: number, now: number) {
    this.#pool = pool
    this.#o = opts
    this.connectDeadline = now + opts.connectTimeoutMs
    this.socket = connect({ host, port, noDelay: true, keepAlive: true, keepAliveInitialDelay: 60_000 })
    this.socket.on('connect', () => this.#onConnect())
    this.socket.on('data', (buf: Buffer) => this.#onData(buf))
    this.socket.on('end', () => this.#onEnd(undefined))
    this.socket.on('error', (err: Error) => this.#onEnd(err))
    this.socket.on('close', () => {
      this.#onEnd(undefined)
      this.#markClosed()
    })
  }

  /** Start `ex` on this connection (now, or once connected). */
  assign(ex: Exchange, now: number): void {
    this.exchange = ex
    ex.owner = this
    ex.reused = this.uses > 0
    this.uses++
    if (this.connecting) {
      ex.phase = Phase.Connecting
      ex.deadline = this.connectDeadline
      return
    }
    this.#send(ex, now)
  }

  /** Fail the exchange this connection serves (abort, timeout) and close. */
  cancel(ex: Exchange, err: Error): void {
    if (this.exchange !== ex) return
    this.#fail(ex, err)
  }

  /** Called by the pool's sweep: time out the exchange, or close when idle too long. */
  sweep(now: number): void {
    const ex = this.exchange
    if (ex !== null) {
      // A slow client reading the response is not an upstream stall: no body
      // timeout while reading is paused for it (the drain listener restarts the clock).
      if (ex.sinkPaused || now <= ex.deadline) return
      if (ex.phase === Phase.Connecting) this.#fail(ex, new UpstreamClientError('UPSTREAM_CONNECT_TIMEOUT', 'upstream connect timed out', true))
      else if (ex.phase === Phase.Head) this.#fail(ex, new UpstreamClientError('UPSTREAM_HEADERS_TIMEOUT', 'upstream did not send response headers in time'))
      else this.#fail(ex, new UpstreamClientError('UPSTREAM_BODY_TIMEOUT', 'upstream stalled while sending the body'))
    } else if (now > this.idleUntil) this.destroy()
  }

  destroy(): void {
    this.socket.destroy()
    this.#markClosed()
  }

  #markClosed(): void {
    if (this.#closed) return
    this.#closed = true
    this.#pool.closed(this)
  }

  #onConnect(): void {
    this.connecting = false
    const ex = this.exchange
    if (ex !== null && ex.phase === Phase.Connecting) this.#send(ex, performance.now())
  }

  #send(ex: Exchange, now: number): void {
    ex.phase = Phase.Head
    ex.deadline = now + this.#o.headersTimeoutMs
    const chunked = sendsChunked(ex.spec)
    let head: string
    try {
      head = requestHead(ex.spec, chunked)
    } catch (err) {
      this.#fail(ex, err instanceof Error ? err : new Error(String(err)))
      return
    }
    this.socket.write(head, 'latin1')
    const body = ex.spec.body
    if (body === null) ex.requestDone = true
    else this.#sendBody(ex, body, chunked)
  }

  /** Streams the request body with backpressure; chunked framing when no Content-Length. */
  #sendBody(ex: Exchange, body: NonNullable<Exchange['spec']['body']>, chunked: boolean): void {
    const socket = this.socket
    const headersTimeoutMs = this.#o.headersTimeoutMs
    const onData = (chunk: Buffer | string): void => {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
      if (buf.length === 0) return
      if (ex.phase === Phase.Head) ex.deadline = performance.now() + headersTimeoutMs
      let ok: boolean
      if (chunked) {
        // One writev for size line, data and CRLF.
        socket.cork()
        socket.write(`${buf.length.toString(16)}${CRLF}`, 'latin1')
        socket.write(buf)
        ok = socket.write(CRLF, 'latin1')
        socket.uncork()
      } else ok = socket.write(buf)
      if (!ok) {
        body.pause()
        socket.once('drain', onDrain)
      }
    }
    const onDrain = (): void => {
      body.resume()
    }
    const onEnd = (): void => {
      stop()
      if (chunked) socket.write(LAST_CHUNK, 'latin1')
      ex.requestDone = true
    }
    const stop = (): void => {
      body.removeListener('data', onData)
      body.removeListener('end', onEnd)
      socket.removeListener('drain', onDrain)
      ex.stopBody = null
    }
    ex.stopBody = stop
    if (body.errored !== null) {
      this.#fail(ex, body.errored)
      return
    }
    body.on('data', onData)
    body.once('end', onEnd)
    if (body.isPaused()) body.resume()
  }

  #onData(buf: Buffer): void {
    const ex = this.exchange
    if (ex === null || ex.phase === Phase.Done || ex.phase === Phase.Connecting) {
      // Bytes nobody asked for: the connection's framing can no longer be trusted.
      this.destroy()
      return
    }
    ex.gotBytes = true
    try {
      this.#consume(ex, buf)
    } catch (err) {
      this.#fail(ex, err instanceof Error ? err : new Error(String(err)))
    }
  }

  #consume(ex: Exchange, input: Buffer): void {
    let buf = input
    let offset = 0
    if (ex.phase === Phase.Head) {
      if (ex.headBuf !== null) {
        buf = Buffer.concat([ex.headBuf, input])
        ex.headBuf = null
      }
      for (;;) {
        const end = buf.indexOf(CRLFCRLF, offset)
        if (end === -1 || end - offset > this.#o.maxHeaderBytes) {
          if (buf.length - offset > this.#o.maxHeaderBytes) throw protocolError('response head too large')
          ex.headBuf = offset === 0 ? buf : buf.subarray(offset)
          return
        }
        const head = parseResponseHead(buf.toString('latin1', offset, end))
        offset = end + 4
        if (head.status < 200) {
          // Interim responses (100 Continue, 103 Early Hints) are not passed on.
          if (head.status === 101) throw protocolError('101 Switching Protocols to a plain request')
          if (offset === buf.length) return
          continue
        }
        const framing = bodyFraming(head, ex.spec.method)
        ex.framing = framing
        if (head.closes || framing === 'close' || (head.transferEncoding && head.contentLength >= 0)) ex.keepConn = false
        ex.keepAliveMs = head.keepAliveMs
        ex.remaining = head.contentLength
        ex.phase = Phase.Body
        ex.deadline = this.#o.bodyTimeoutMs > 0 ? performance.now() + this.#o.bodyTimeoutMs : Infinity
        if (framing === 'chunked') ex.decoder = new ChunkedDecoder()
        const sink = ex.onHead({ status: head.status, rawHeaders: head.rawHeaders, framing })
        // The caller may have cancelled (and so failed) the exchange from onHead.
        if ((ex.phase as Phase) !== Phase.Body) return
        ex.sink = sink
        if (framing === 'none') {
          if (offset < buf.length) ex.keepConn = false
          this.#finish(ex)
          return
        }
        break
      }
    } else if (this.#o.bodyTimeoutMs > 0) {
      ex.deadline = performance.now() + this.#o.bodyTimeoutMs
    }
    if (offset === buf.length) return
    switch (ex.framing) {
      case 'length': {
        const left = buf.length - offset
        const n = Math.min(ex.remaining, left)
        const piece = offset === 0 && n === buf.length ? buf : buf.subarray(offset, offset + n)
        ex.remaining -= n
        if (n < left) ex.keepConn = false
        // The last piece goes with end(): one write for head and body of a small response.
        if (ex.remaining === 0) this.#finish(ex, piece)
        else this.#toSink(piece)
        break
      }
      case 'chunked': {
        const decoder = ex.decoder
        if (decoder === null) throw protocolError('no chunked decoder')
        const end = decoder.push(buf, offset, this.#writeBody)
        if (end >= 0) {
          if (end < buf.length) ex.keepConn = false
          this.#finish(ex)
        }
        break
      }
      case 'close':
        this.#toSink(offset === 0 ? buf : buf.subarray(offset))
        break
      case 'none':
        break
    }
  }

  #toSink(chunk: Buffer): void {
    const ex = this.exchange
    const sink = ex?.sink
    if (ex === null || sink === null || sink === undefined || ex.phase !== Phase.Body) return
    if (!sink.write(chunk) && !ex.sinkPaused) {
      ex.sinkPaused = true
      this.socket.pause()
      sink.once('drain', this.#sinkDrained)
    }
  }

  /** The response is complete: end the sink, settle, and reuse or close the connection. */
  #finish(ex: Exchange, last?: Buffer): void {
    // Already failed (say, aborted from inside the sink's write).
    if (ex.phase === Phase.Done) return
    const sink = ex.sink
    if (ex.sinkPaused && sink !== null) {
      sink.removeListener('drain', this.#sinkDrained)
      ex.sinkPaused = false
      this.socket.resume()
    }
    // A response that ends before the request body was sent leaves the connection mid-request.
    const reuse = ex.keepConn && ex.requestDone && !this.#closed
    this.exchange = null
    ex.settle(undefined)
    if (last !== undefined) sink?.end(last)
    else sink?.end()
    if (!reuse) {
      this.destroy()
      return
    }
    let idleMs = this.#o.keepAliveTimeoutMs
    // Leave a second's margin before the upstream's own idle timeout.
    if (ex.keepAliveMs >= 0) idleMs = Math.min(idleMs, ex.keepAliveMs - 1000)
    if (idleMs <= 0) {
      this.destroy()
      return
    }
    this.idleUntil = performance.now() + idleMs
    this.#pool.released(this)
  }

  #fail(ex: Exchange, err: Error): void {
    if (this.exchange === ex) this.exchange = null
    if (ex.sinkPaused && ex.sink !== null) ex.sink.removeListener('drain', this.#sinkDrained)
    this.destroy()
    ex.settle(err)
  }

  /** The upstream closed (FIN, error or close): finish a close-delimited body, retry a stale reuse, or fail. */
  #onEnd(err: Error | undefined): void {
    const ex = this.exchange
    if (ex === null) {
      if (!this.#closed) this.destroy()
      return
    }
    if (ex.phase === Phase.Body && ex.framing === 'close' && err === undefined) {
      this.#finish(ex)
      return
    }
    if (ex.phase === Phase.Head && !ex.gotBytes && ex.reused && !ex.retried && ex.spec.body === null && isIdempotent(ex.spec.method)) {
      // A kept-alive connection the upstream had just closed: send again on a fresh one.
      // The pool queues it first; closing this connection frees the slot it is sent on.
      ex.retried = true
      this.exchange = null
      this.#pool.retry(ex)
      this.destroy()
      return
    }
    if (err !== undefined) {
      this.#fail(ex, err)
      return
    }
    const beforeSend = ex.phase === Phase.Connecting
    this.#fail(ex, new UpstreamClientError('UPSTREAM_RESET', 'upstream closed the connection before the response was complete', beforeSend))
  }
}
