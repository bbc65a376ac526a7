// A cheap abort signal for one forwarded request: the server fires it from
// the response's single 'close' listener when the client went away before the
// response finished, and the upstream client listens with once('abort').
// Not an EventEmitter or AbortController: one is made per request, and those
// cost measurable CPU and garbage per request in profiles.

type Listener = () => void

export class ClientAbort {
  aborted = false
  /** Named AbortError so proxy/upstream-errors.ts classifies it as a client abort. */
  reason: Error | undefined = undefined
  #listeners: Listener[] | undefined = undefined

  once(_event: 'abort', fn: Listener): this {
    ;(this.#listeners ??= []).push(fn)
    return this
  }

  removeListener(_event: 'abort', fn: Listener): this {
    const l = this.#listeners
    if (l !== undefined) {
      const i = l.indexOf(fn)
      if (i !== -1) l.splice(i, 1)
    }
    return this
  }

  /** Listeners still attached (tests check that finished requests detach theirs). */
  listenerCount(_event: 'abort'): number {
    return this.#listeners?.length ?? 0
  }

  abort(): void {
    if (this.aborted) return
    this.aborted = true
    this.reason = Object.assign(new Error('the client closed the connection'), { name: 'AbortError' })
    const l = this.#listeners
    this.#listeners = undefined
    if (l !== undefined) for (const fn of l) fn()
  }
}
