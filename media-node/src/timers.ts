// The clock the node's long timers run on. Production uses Node's timers
// (unref'd, so a pending renewal never keeps the process alive); tests pass a
// fake clock and move time by hand instead of sleeping.

/** A pending timer; `cancel()` is idempotent. */
export interface TimerHandle {
  cancel(): void
}

/** One-shot timers and the current time, injectable for tests. */
export interface Timers {
  /** Milliseconds since the epoch. */
  now(): number
  /** Calls `fn` once after `ms`. The timer must not keep the process alive. */
  setTimeout(fn: () => void, ms: number): TimerHandle
}

/** Node's own timers, unref'd. */
export const realTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const timer = setTimeout(fn, ms)
    timer.unref()
    return { cancel: () => clearTimeout(timer) }
  },
}
