// One media WebSocket session as a k6 VU sees it: connect through the router,
// send messages at a fixed rate, measure the echo round trip, hold, close.
// Shared by the WebSocket and drain scenarios.

import ws from 'k6/ws'
import { check } from 'k6'
import { Counter, Rate, Trend } from 'k6/metrics'
import { WS_MSG_RATE, WS_HOLD_S, WS_PAYLOAD_BYTES, mediaUrl } from './config.js'

/** Echo round trip (send → own message back), ms. */
export const wsRtt = new Trend('ws_rtt', true)
/** 1 when a session failed to open or was closed by the far end before its hold time. */
export const wsSessionFailed = new Rate('ws_session_failed')
/** Messages relayed from other session members. */
export const wsRelayed = new Counter('ws_relayed_messages')
/** Echoes that never came back before the session ended. */
export const wsLost = new Counter('ws_lost_messages')

const PADDING = new Array(WS_PAYLOAD_BYTES + 1).join('x')

/**
 * Runs one session and records metrics.
 * @param {string} nodeId media node
 * @param {string} sessionId session shared by the peers
 * @param {string} clientId unique per VU iteration, to tell own echoes from relays
 * @param {{ [name: string]: string }} tags extra metric tags
 * @returns {{ opened: boolean, closedEarly: boolean, closeCode: number }}
 */
export function runSession(nodeId, sessionId, clientId, tags) {
  const url = mediaUrl(nodeId, sessionId)
  const holdMs = WS_HOLD_S * 1000
  const intervalMs = WS_MSG_RATE > 0 ? Math.max(10, Math.floor(1000 / WS_MSG_RATE)) : 0
  let opened = false
  let clientClosing = false
  let closedEarly = false
  let closeCode = 0
  let seq = 0
  /** @type {{ [seq: string]: number }} */
  const pending = {}

  const res = ws.connect(url, { tags: tags }, function (socket) {
    socket.on('open', function () {
      opened = true
      if (intervalMs > 0) {
        socket.setInterval(function () {
          seq++
          pending[String(seq)] = Date.now()
          socket.send(JSON.stringify({ from: clientId, seq: seq, pad: PADDING }))
        }, intervalMs)
      }
      socket.setTimeout(function () {
        clientClosing = true
        socket.close(1000)
      }, holdMs)
    })
    socket.on('message', function (data) {
      let msg
      try {
        msg = JSON.parse(data)
      } catch (e) {
        return
      }
      if (msg && msg.from === clientId) {
        const sentAt = pending[String(msg.seq)]
        if (sentAt !== undefined) {
          wsRtt.add(Date.now() - sentAt, tags)
          delete pending[String(msg.seq)]
        }
      } else {
        wsRelayed.add(1, tags)
      }
    })
    socket.on('close', function (code) {
      closeCode = code
      if (!clientClosing) closedEarly = true
    })
    socket.on('error', function () {
      if (!clientClosing) closedEarly = true
    })
  })

  wsLost.add(Object.keys(pending).length, tags)
  const ok = check(res, { 'ws upgrade 101': function (r) { return r && r.status === 101 } }, tags)
  wsSessionFailed.add(!ok || !opened || closedEarly, tags)
  return { opened: opened, closedEarly: closedEarly, closeCode: closeCode }
}
