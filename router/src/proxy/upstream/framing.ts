// What the router may forward of an upstream response head, decided from what
// llhttp (inside undici) already parsed. llhttp frames the body; this adds the
// rules of an intermediary (RFC 9112 §6.1, §6.3) and nginx's policy: a
// Transfer-Encoding other than exactly `chunked` is refused (502), never read
// until close and passed on as a plain body; Transfer-Encoding and
// Content-Length are never forwarded together; a Content-Length is forwarded
// only when it is what framed the body (or, for HEAD and 304, the metadata it
// stands for). Pure: no I/O.

/** Response header fields as undici hands them over: lower-case names, repeated fields as arrays. */
export type ResponseHeaders = Readonly<Record<string, string | readonly string[] | undefined>>

export type ResponseFraming =
  | {
      readonly ok: true
      /** Forward the upstream's Content-Length (and hold the client response to it). */
      readonly forwardLength: boolean
      /** No body follows the head (HEAD, 204, 304): the client response can end with the head. */
      readonly bodiless: boolean
    }
  | { readonly ok: false; readonly problem: string }

/** The framing decision for a final (≥ 200) response to `method`. */
export function responseFraming(status: number, method: string, headers: ResponseHeaders): ResponseFraming {
  const te = headers['transfer-encoding']
  const cl = headers['content-length']
  if (te !== undefined) {
    if (typeof te !== 'string' || te.trim().toLowerCase() !== 'chunked') {
      return { ok: false, problem: `upstream sent an unsupported Transfer-Encoding (${JSON.stringify(typeof te === 'string' ? te : te.join(', ')).slice(0, 80)}); only "chunked" is accepted` }
    }
    if (cl !== undefined) return { ok: false, problem: 'upstream sent both Transfer-Encoding and Content-Length' }
  }
  if (cl !== undefined && typeof cl !== 'string') return { ok: false, problem: 'upstream sent more than one Content-Length' }
  const bodiless = method === 'HEAD' || status === 204 || status === 304
  // RFC 9110 §8.6: no Content-Length in a 204.
  return { ok: true, forwardLength: cl !== undefined && te === undefined && status !== 204, bodiless }
}
