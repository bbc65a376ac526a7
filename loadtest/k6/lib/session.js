// One media WebSocket session as a k6 VU runs it: k6/ws wired to the
// library-free logic in session-core.js, and the metrics every WebSocket
// scenario's thresholds rely on (thresholds.js).

import ws from 'k6/ws'
import { check } from 'k6'
import { Counter, Rate, Trend } from 'k6/metrics'
import { createSession } from './session-core.js'
import { mediaUrl } from './config.js'

/** Echo round trip (send → own message back), ms. */
export const wsRtt = new Trend('ws_rtt', true)
/** Echoes received: the guard that makes ws_rtt thresholds fail when nothing came back. */
export const wsEchoes = new Counter('ws_echoes')
/** Sessions attempted: the guard of ws_session_failed. */
export const wsSessions = new Counter('ws_sessions')
/** 1 when a session failed to open or was closed by the far end before its hold time. */
export const wsSessionFailed = new Rate('ws_session_failed')
/** Per message sent: 1 when its echo never came back (at least the grace time before the close). */
export const wsMessageLost = new Rate('ws_message_lost')
/** Lost messages (informational; the threshold is on the rate). */
export const wsLost = new Counter('ws_lost_messages')
/** Missing echoes of messages younger than the grace time when the far end cut the session (not judged). */
export const wsUnanswered = new Counter('ws_unanswered_at_close')
/** Messages relayed from other session members. */
export const wsRelayed = new Counter('ws_relayed_messages')

/**
 * Runs one session and records its metrics with `tags`.
 * @param {import('./config.js').Config} cfg
 * @param {{ nodeId: string, sessionId: string, clientId: string, holdS: number, msgRate: number }} spec
 * @param {{ [name: string]: string }} tags
 * @returns {import('./session-core.js').SessionResult & { status: number, startedAt: number }}
 */
export function runSession(cfg, spec, tags) {
  const startedAt = Date.now()
  /** @type {ReturnType<typeof createSession> | undefined} */
  let logic
  const res = ws.connect(mediaUrl(cfg, spec.nodeId, spec.sessionId), { tags: tags }, function (socket) {
    let closed = false
    const s = createSession(
      { clientId: spec.clientId, holdMs: spec.holdS * 1000, msgRate: spec.msgRate, graceMs: cfg.wsEchoGraceMs, padding: new Array(cfg.wsPayloadBytes + 1).join('x') },
      {
        send: function (text) { socket.send(text) },
        close: function (code) { socket.close(code) },
        every: function (fn, ms) { socket.setInterval(function () { if (!closed) fn() }, ms) },
        after: function (fn, ms) { socket.setTimeout(function () { if (!closed) fn() }, ms) },
        now: function () { return Date.now() },
      },
    )
    logic = s
    socket.on('open', function () { s.onOpen() })
    socket.on('message', function (data) { s.onMessage(data) })
    socket.on('close', function (code) {
      closed = true
      s.onClose(code)
    })
    socket.on('error', function () { s.onError() })
  })
  const status = res ? res.status : 0
  const r = logic === undefined
    ? { opened: false, closedEarly: false, closeCode: 0, sent: 0, echoed: 0, relayed: 0, lost: 0, unansweredAtClose: 0, rttsMs: [] }
    : logic.result()
  const ok = check(res, { 'ws upgrade 101': function (x) { return x !== undefined && x !== null && x.status === 101 } }, tags)
  wsSessions.add(1, tags)
  wsSessionFailed.add(!ok || !r.opened || r.closedEarly, tags)
  for (let i = 0; i < r.rttsMs.length; i++) wsRtt.add(r.rttsMs[i], tags)
  wsEchoes.add(r.echoed, tags)
  for (let i = 0; i < r.echoed; i++) wsMessageLost.add(false, tags)
  for (let i = 0; i < r.lost; i++) wsMessageLost.add(true, tags)
  wsLost.add(r.lost, tags)
  wsUnanswered.add(r.unansweredAtClose, tags)
  wsRelayed.add(r.relayed, tags)
  return {
    opened: r.opened, closedEarly: r.closedEarly, closeCode: r.closeCode, sent: r.sent, echoed: r.echoed, relayed: r.relayed,
    lost: r.lost, unansweredAtClose: r.unansweredAtClose, rttsMs: r.rttsMs, status: status, startedAt: startedAt,
  }
}
