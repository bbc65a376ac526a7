// W3C Trace Context (https://www.w3.org/TR/trace-context/): the `traceparent`
// and `tracestate` a request came with, checked; the router's own span id
// (one per request or WebSocket: every attempt of a request carries the same
// parent id); the `traceparent` sent upstream. An absent or invalid
// `traceparent` starts a new trace, and then `tracestate` is dropped (the
// spec: a vendor that failed to parse traceparent must not use tracestate).
// Pure apart from the random ids, which come from a pooled random buffer.

import { randomFillSync } from 'node:crypto'

/** One request's trace context. Strings only, so a WebSocket holds little for its log line. */
export interface TraceContext {
  /** Sent upstream: `00-<trace-id>-<router span id>-<flags>`; trace id at [3, 35), span id at [36, 52). */
  readonly traceparent: string
  /** The caller's span (parent-id of a valid incoming traceparent); undefined when the router started the trace. */
  readonly parentId: string | undefined
  /** Forwarded unchanged when it is valid and traceparent was; else undefined. */
  readonly tracestate: string | undefined
}

/** The trace id (32 hex) of a context. */
export function traceIdOf(t: TraceContext): string {
  return t.traceparent.substring(3, 35)
}

/** The router's span id (16 hex) of a context. */
export function spanIdOf(t: TraceContext): string {
  return t.traceparent.substring(36, 52)
}

/** Flags of a trace the router starts: sampled (01). The router records every request, in its access log. */
const NEW_TRACE_FLAGS = '01'

// --- ids -------------------------------------------------------------------

const POOL_IDS = 256
const pool = Buffer.alloc(8 * POOL_IDS)
let nextInPool = POOL_IDS
const text = Buffer.alloc(32)
const HEX = Buffer.from('0123456789abcdef', 'latin1')

/** 8 random bytes as 16 lower-case hex characters, written at `into[at..]`; never all zeros. */
function randomHex8(into: Buffer, at: number): void {
  for (;;) {
    if (nextInPool === POOL_IDS) {
      randomFillSync(pool)
      nextInPool = 0
    }
    const from = 8 * nextInPool++
    let any = 0
    for (let i = 0; i < 8; i++) {
      const b = pool[from + i] ?? 0
      any |= b
      into[at + 2 * i] = HEX[b >> 4] ?? 0
      into[at + 2 * i + 1] = HEX[b & 0x0f] ?? 0
    }
    if (any !== 0) return
  }
}

/** A new span id: 16 lower-case hex characters, not all zeros. */
export function newSpanId(): string {
  randomHex8(text, 0)
  return text.toString('latin1', 0, 16)
}

/** A new trace id: 32 lower-case hex characters, not all zeros. */
export function newTraceId(): string {
  randomHex8(text, 0)
  randomHex8(text, 16)
  return text.toString('latin1', 0, 32)
}

/** `00-<new trace id>-<new span id>-01`, written in place and read back as one string. */
const started = Buffer.from(`00-${'0'.repeat(32)}-${'0'.repeat(16)}-${NEW_TRACE_FLAGS}`, 'latin1')

/** The traceparent of a trace the router starts: one string made, not three joined. */
function newTraceparent(): string {
  randomHex8(started, 3)
  randomHex8(started, 19)
  randomHex8(started, 36)
  return started.toString('latin1')
}

// --- parsing -----------------------------------------------------------------

/** Lower-case hex digit (the spec's HEXDIGLC; upper case is invalid). */
function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66)
}

/** `len` lower-case hex characters from `at`, not all '0'. */
function hexNotZero(s: string, at: number, len: number): boolean {
  let nonZero = false
  for (let i = at; i < at + len; i++) {
    const c = s.charCodeAt(i)
    if (!isHex(c)) return false
    if (c !== 0x30) nonZero = true
  }
  return nonZero
}

/**
 * The parts of a valid `traceparent` the router keeps (trace id, parent id,
 * flags), or undefined. Version 00: exactly 55 characters. A higher version
 * (not `ff`) is read as the spec says: at least 55 characters, the version-00
 * fields in place, and after the flags the end or a `-`; only the sampled bit
 * of its flags is known, and it is forwarded as version 00.
 */
export function parseTraceparent(v: string | undefined): { traceId: string; parentId: string; flags: string } | undefined {
  if (v === undefined || v.length < 55) return undefined
  const v0 = v.charCodeAt(0)
  const v1 = v.charCodeAt(1)
  if (!isHex(v0) || !isHex(v1) || (v0 === 0x66 && v1 === 0x66)) return undefined
  const version00 = v0 === 0x30 && v1 === 0x30
  if (version00 ? v.length !== 55 : v.length > 55 && v.charCodeAt(55) !== 0x2d) return undefined
  if (v.charCodeAt(2) !== 0x2d || v.charCodeAt(35) !== 0x2d || v.charCodeAt(52) !== 0x2d) return undefined
  if (!hexNotZero(v, 3, 32) || !hexNotZero(v, 36, 16)) return undefined
  const f0 = v.charCodeAt(53)
  const f1 = v.charCodeAt(54)
  if (!isHex(f0) || !isHex(f1)) return undefined
  const flags = version00 ? v.substring(53, 55) : (parseInt(v.substring(53, 55), 16) & 1) === 1 ? '01' : '00'
  return { traceId: v.substring(3, 35), parentId: v.substring(36, 52), flags }
}

/** A tracestate key: `lcalpha 0*255(lcalpha / DIGIT / "_" / "-" / "*" / "/")`, or `tenant@system` (tenant up to 241, system up to 14). */
const TRACESTATE_KEY = /^(?:[a-z][a-z0-9_*/-]{0,255}|[a-z0-9][a-z0-9_*/-]{0,240}@[a-z][a-z0-9_*/-]{0,13})$/
/** A tracestate value: up to 256 printable ASCII characters but ',' and '=', not ending in a space. */
const TRACESTATE_VALUE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/
/** At most this many list members (the spec's limit). */
const TRACESTATE_MAX_MEMBERS = 32

/**
 * `tracestate` as forwarded: the value unchanged when every list member is
 * `key=value` by the spec's grammar, keys are unique and there are at most 32;
 * undefined otherwise (an invalid tracestate is dropped, traceparent kept).
 * Several tracestate fields arrive joined by commas (Node joins repeats), which
 * is how the spec combines them.
 */
export function checkTracestate(v: string | undefined): string | undefined {
  if (v === undefined) return undefined
  const seen = new Set<string>()
  for (const raw of v.split(',')) {
    const member = raw.trim()
    if (member === '') continue
    const eq = member.indexOf('=')
    if (eq <= 0) return undefined
    const key = member.substring(0, eq)
    if (!TRACESTATE_KEY.test(key) || !TRACESTATE_VALUE.test(member.substring(eq + 1)) || seen.has(key)) return undefined
    seen.add(key)
    if (seen.size > TRACESTATE_MAX_MEMBERS) return undefined
  }
  return seen.size > 0 ? v : undefined
}

/**
 * The trace context of a request: the incoming trace continued with a new
 * span id of the router's when `traceparent` is valid, else a new trace.
 */
export function traceContextFrom(traceparent: string | readonly string[] | undefined, tracestate: string | readonly string[] | undefined): TraceContext {
  const incoming = typeof traceparent === 'string' ? parseTraceparent(traceparent) : undefined
  if (incoming === undefined) return { traceparent: newTraceparent(), parentId: undefined, tracestate: undefined }
  const span = newSpanId()
  const state = typeof tracestate === 'string' ? checkTracestate(tracestate) : tracestate !== undefined ? checkTracestate(tracestate.join(',')) : undefined
  return { traceparent: `00-${incoming.traceId}-${span}-${incoming.flags}`, parentId: incoming.parentId, tracestate: state }
}

/**
 * The `traceresponse` header value on the router's own responses (W3C Trace
 * Context Level 2): the same as the traceparent it sends upstream.
 */
export function traceresponseOf(t: TraceContext): string {
  return t.traceparent
}
