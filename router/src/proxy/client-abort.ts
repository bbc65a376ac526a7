// A cheap abort signal for one forwarded request. undici accepts any
// EventEmitter with `aborted` and an 'abort' event as a request signal; an
// AbortController (an EventTarget) cost ~5% of the proxy's CPU per request in
// profiles. The server triggers it from the response's single 'close' listener
// when the client went away before the response finished.

import { EventEmitter } from 'node:events'

export class ClientAbort extends EventEmitter {
  aborted = false
  reason: Error | undefined = undefined

  abort(): void {
    if (this.aborted) return
    this.aborted = true
    // Named AbortError so proxy/upstream-errors.ts classifies it as a client abort.
    this.reason = Object.assign(new Error('the client closed the connection'), { name: 'AbortError' })
    this.emit('abort')
  }
}
