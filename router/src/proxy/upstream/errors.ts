// The one error the upstream path makes itself (everything else is undici's,
// with undici's codes): a response head llhttp accepted but the router must
// not forward (proxy/upstream/framing.ts). Mapped to 502 in upstream-errors.ts.

export class UpstreamFramingError extends Error {
  readonly code = 'UPSTREAM_FRAMING'

  constructor(message: string) {
    super(message)
    this.name = 'UpstreamFramingError'
  }
}
