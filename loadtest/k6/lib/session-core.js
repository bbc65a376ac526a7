// The logic of one media WebSocket session, apart from any WebSocket library:
// send at a fixed rate, match echoes to measure round trips, hold, close, and
// account for messages honestly at the end. session.js wires it to k6/ws; the
// tap tests wire it to the `ws` package against a real router and media node.
// Pure: no k6 imports.
//
// Lost messages: the last message must not go out as the client closes (its
// echo would be counted lost on a healthy router). So nothing is sent during
// the last `graceMs` of the hold, and at close a missing echo counts as lost
// only if it was sent at least `graceMs` before; younger ones are
// "unanswered at close", reported apart and never judged.

/**
 * What the session needs from the socket and the clock.
 * @typedef {Object} SessionIo
 * @property {(text: string) => void} send
 * @property {(code: number) => void} close
 * @property {(fn: () => void, ms: number) => void} every repeat `fn` every `ms` until the socket closes
 * @property {(fn: () => void, ms: number) => void} after run `fn` once after `ms` unless the socket closed
 * @property {() => number} now milliseconds
 */

/**
 * @typedef {Object} SessionOptions
 * @property {string} clientId unique per client, to tell own echoes from relays
 * @property {number} holdMs how long the session is held after it opened
 * @property {number} msgRate messages per second (0: none)
 * @property {number} graceMs quiet time before the close; minimum age of a "lost" echo
 * @property {string} padding appended to every message
 */

/**
 * @typedef {Object} SessionResult
 * @property {boolean} opened
 * @property {boolean} closedEarly closed (or errored) by the far end before the hold time
 * @property {number} closeCode
 * @property {number} sent
 * @property {number} echoed
 * @property {number} relayed messages from other members of the session
 * @property {number} lost sent at least graceMs before the close, echo never came
 * @property {number} unansweredAtClose sent within graceMs of an early close, echo never came
 * @property {number[]} rttsMs one per echo
 */

/**
 * Interval between messages for `msgRate`, ms (0: no messages).
 * @param {number} msgRate
 * @returns {number}
 */
export function sendIntervalMs(msgRate) {
  return msgRate > 0 ? Math.max(10, Math.floor(1000 / msgRate)) : 0
}

/**
 * Creates the session's event handlers. Call onOpen/onMessage/onClose/onError
 * from the socket's events, then result() once the socket has closed.
 * @param {SessionOptions} opts
 * @param {SessionIo} io
 */
export function createSession(opts, io) {
  const intervalMs = sendIntervalMs(opts.msgRate)
  let opened = false
  let openedAt = 0
  let clientClosing = false
  let closedEarly = false
  let closed = false
  let closedAt = 0
  let closeCode = 0
  let seq = 0
  let echoed = 0
  let relayed = 0
  /** @type {{ [seq: string]: number }} */
  const pending = {}
  /** @type {number[]} */
  const rtts = []

  function sendOne() {
    if (closed || clientClosing) return
    // Quiet before the close: an echo needs time to come back.
    if (io.now() - openedAt + opts.graceMs > opts.holdMs) return
    seq++
    pending[String(seq)] = io.now()
    io.send(JSON.stringify({ from: opts.clientId, seq: seq, pad: opts.padding }))
  }

  return {
    onOpen: function () {
      opened = true
      openedAt = io.now()
      if (intervalMs > 0) io.every(sendOne, intervalMs)
      io.after(function () {
        if (closed) return
        clientClosing = true
        io.close(1000)
      }, opts.holdMs)
    },
    /** @param {unknown} data */
    onMessage: function (data) {
      /** @type {unknown} */
      let msg
      try {
        msg = JSON.parse(String(data))
      } catch (e) {
        return
      }
      if (typeof msg !== 'object' || msg === null) return
      const m = /** @type {{ from?: unknown, seq?: unknown }} */ (msg)
      if (m.from === opts.clientId) {
        const key = String(m.seq)
        const sentAt = pending[key]
        if (sentAt !== undefined) {
          rtts.push(io.now() - sentAt)
          echoed++
          delete pending[key]
        }
      } else {
        relayed++
      }
    },
    /** @param {number} code */
    onClose: function (code) {
      if (closed) return
      closed = true
      closedAt = io.now()
      closeCode = code
      if (!clientClosing) closedEarly = true
    },
    onError: function () {
      if (!clientClosing) closedEarly = true
    },
    /** @returns {SessionResult} */
    result: function () {
      const end = closed ? closedAt : io.now()
      let lost = 0
      let unanswered = 0
      const keys = Object.keys(pending)
      for (let i = 0; i < keys.length; i++) {
        if (end - pending[keys[i]] >= opts.graceMs) lost++
        else unanswered++
      }
      return {
        opened: opened,
        closedEarly: opened && closedEarly,
        closeCode: closeCode,
        sent: seq,
        echoed: echoed,
        relayed: relayed,
        lost: lost,
        unansweredAtClose: unanswered,
        rttsMs: rtts,
      }
    },
  }
}
