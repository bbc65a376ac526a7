// ECS task scale-in protection while the node holds sessions. Protection is
// set when connections go from 0 to more (PUT ProtectionEnabled true with
// ExpiresInMinutes), renewed every `renewAfterMs` (half the period by
// default) while connections stay, and released (PUT ProtectionEnabled
// false) once connections have stayed at 0 for `releaseDelayMs`, or at once
// when the node has drained. One request at a time; a failure is logged and
// retried with capped backoff; nothing here ever throws into the node.
// Without an agent URI (not on ECS) everything is a quiet no-op.

import { MAX_PROTECTION_MINUTES, getTaskProtection, putTaskProtection } from './ecs-agent.js'
import type { ProtectionState } from './ecs-agent.js'
import type { Logger } from './log.js'
import { realTimers } from './timers.js'
import type { TimerHandle, Timers } from './timers.js'
import { errorMessage } from './guards.js'

export interface TaskProtectionOptions {
  /** `$ECS_AGENT_URI`. Undefined: protection is skipped quietly. */
  agentUri: string | undefined
  /** ExpiresInMinutes sent with each set/renewal, 1..2880. Default 60. */
  expiresInMinutes?: number
  /** Renew this long after each successful set. Default half the period. Must be shorter than the period. */
  renewAfterMs?: number
  /** Release once connections have been 0 this long (debounce). Default 30 s. 0 releases at once. */
  releaseDelayMs?: number
  /** First delay before retrying a failed request; doubles, capped at 60 s (never below this value). Default 5 s. */
  retryDelayMs?: number
  /** Timeout of one agent request. Default 5 s. */
  requestTimeoutMs?: number
  /** Clock for the renewal, debounce and retry timers. Default: Node's timers. */
  timers?: Timers
  log: Logger
}

/** Protection as shown in /status. */
export interface TaskProtectionReport {
  /** False when there is no agent URI. */
  enabled: boolean
  /** True when the last successful request set protection. */
  protected: boolean
  /** Expiration the agent reported for the current protection. */
  expiresAt?: string
  /** Requests started so far (GET and PUT). */
  requests: number
  /** Failures in a row. */
  failures: number
  lastError?: string
}

/** Keeps the task protected while it has connections. */
export class TaskProtection {
  readonly #agentUri: string | undefined
  readonly #minutes: number
  readonly #renewAfterMs: number
  readonly #releaseDelayMs: number
  readonly #retryDelayMs: number
  readonly #timeoutMs: number
  readonly #timers: Timers
  readonly #log: Logger
  /** Whether the node wants protection now. */
  #want = false
  /** What the agent last confirmed. */
  #have: 'on' | 'off' = 'off'
  #renewDue = false
  #current: Promise<void> | undefined
  #renewTimer: TimerHandle | undefined
  #releaseTimer: TimerHandle | undefined
  #retryTimer: TimerHandle | undefined
  #stopped = false
  #requests = 0
  #failures = 0
  #lastError: string | undefined
  #expiresAt: string | undefined

  constructor(options: TaskProtectionOptions) {
    const minutes = options.expiresInMinutes ?? 60
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > MAX_PROTECTION_MINUTES) {
      throw new RangeError(`expiresInMinutes must be an integer from 1 to ${MAX_PROTECTION_MINUTES}, got ${minutes}`)
    }
    const renewAfterMs = options.renewAfterMs ?? (minutes * 60_000) / 2
    if (!(renewAfterMs > 0 && renewAfterMs < minutes * 60_000)) {
      throw new RangeError(`renewAfterMs must be above 0 and below the protection period (${minutes * 60_000} ms), got ${renewAfterMs}`)
    }
    this.#agentUri = options.agentUri
    this.#minutes = minutes
    this.#renewAfterMs = renewAfterMs
    this.#releaseDelayMs = options.releaseDelayMs ?? 30_000
    this.#retryDelayMs = options.retryDelayMs ?? 5_000
    this.#timeoutMs = options.requestTimeoutMs ?? 5_000
    this.#timers = options.timers ?? realTimers
    this.#log = options.log
  }

  /** True when there is an agent to talk to. */
  get enabled(): boolean {
    return this.#agentUri !== undefined
  }

  /** For /status. */
  report(): TaskProtectionReport {
    return {
      enabled: this.enabled,
      protected: this.#have === 'on',
      ...(this.#have === 'on' && this.#expiresAt !== undefined ? { expiresAt: this.#expiresAt } : {}),
      requests: this.#requests,
      failures: this.#failures,
      ...(this.#lastError !== undefined ? { lastError: this.#lastError } : {}),
    }
  }

  /**
   * Reads the current state once (GET), so protection left on by an earlier
   * container of this task is known and released when idle. A failure is
   * logged and the state taken as unprotected.
   */
  start(activeConnections: number): void {
    if (this.#agentUri === undefined) {
      this.#log({ level: 'debug', msg: 'ECS_AGENT_URI not set, task scale-in protection skipped' })
      return
    }
    const agentUri = this.#agentUri
    this.#run(async () => {
      this.#requests++
      try {
        const state = await getTaskProtection(agentUri, this.#timeoutMs)
        this.#ok(state)
        this.#log({ level: 'info', msg: 'task protection state read', protectionEnabled: state.protectionEnabled, expiresAt: state.expirationDate })
      } catch (err) {
        this.#log({ level: 'warn', msg: 'could not read task protection state', error: errorMessage(err) })
      }
    })
    this.update(activeConnections)
  }

  /** Tells the current number of connections; acts on 0 → more and (debounced) more → 0. */
  update(activeConnections: number): void {
    if (this.#agentUri === undefined || this.#stopped) return
    if (activeConnections > 0) {
      this.#releaseTimer?.cancel()
      this.#releaseTimer = undefined
      if (!this.#want) {
        this.#want = true
        this.#reconcile()
      }
      return
    }
    if (this.#releaseTimer !== undefined) return
    if (this.#want || this.#have === 'on') {
      this.#releaseTimer = this.#timers.setTimeout(() => {
        this.#releaseTimer = undefined
        this.#want = false
        this.#reconcile()
      }, this.#releaseDelayMs)
    }
  }

  /**
   * Final release (the node drained or is closing): stops all timers, waits
   * for a request in flight, and clears protection if it may be set (two
   * attempts). Never rejects.
   */
  async release(): Promise<void> {
    if (this.#agentUri === undefined || this.#stopped) return
    this.#stopped = true
    this.#want = false
    for (const timer of [this.#renewTimer, this.#releaseTimer, this.#retryTimer]) timer?.cancel()
    this.#renewTimer = this.#releaseTimer = this.#retryTimer = undefined
    await this.#current
    if (this.#have === 'off' && this.#failures === 0) return
    for (let attempt = 1; attempt <= 2 && this.#have !== 'off'; attempt++) await this.#put(false)
    // A failed set may still have taken effect at ECS: clear it too.
    if (this.#have === 'off' && this.#failures > 0) await this.#put(false)
  }

  #reconcile(): void {
    if (this.#current !== undefined || this.#retryTimer !== undefined || this.#stopped) return
    if (this.#want && (this.#have !== 'on' || this.#renewDue)) this.#run(() => this.#put(true))
    else if (!this.#want && this.#have === 'on') this.#run(() => this.#put(false))
  }

  /** Runs one request; afterwards looks again at what is wanted. */
  #run(request: () => Promise<void>): void {
    const current = request().finally(() => {
      this.#current = undefined
      this.#reconcile()
    })
    this.#current = current
  }

  async #put(enable: boolean): Promise<void> {
    const agentUri = this.#agentUri
    if (agentUri === undefined) return
    const renewal = enable && this.#have === 'on'
    if (enable) this.#renewDue = false
    this.#requests++
    try {
      const state = await putTaskProtection(agentUri, enable ? { ProtectionEnabled: true, ExpiresInMinutes: this.#minutes } : { ProtectionEnabled: false }, this.#timeoutMs)
      this.#ok(state)
      this.#log({
        level: 'info',
        msg: enable ? (renewal ? 'task protection renewed' : 'task protection set') : 'task protection released',
        ...(enable ? { expiresInMinutes: this.#minutes, expiresAt: state.expirationDate } : {}),
      })
    } catch (err) {
      this.#failures++
      this.#lastError = errorMessage(err)
      if (enable) this.#renewDue = this.#have === 'on'
      const delayMs = Math.max(this.#retryDelayMs, Math.min(60_000, this.#retryDelayMs * 2 ** Math.min(this.#failures - 1, 20)))
      this.#log({
        level: 'warn',
        msg: `task protection ${enable ? 'request' : 'release'} failed${this.#stopped ? '' : ', will retry'}`,
        attempt: this.#failures,
        ...(this.#stopped ? {} : { retryInMs: delayMs }),
        error: this.#lastError,
      })
      if (!this.#stopped) {
        this.#retryTimer = this.#timers.setTimeout(() => {
          this.#retryTimer = undefined
          this.#reconcile()
        }, delayMs)
      }
    }
  }

  /** Records a successful answer and (re)arms the renewal timer when protected. */
  #ok(state: ProtectionState): void {
    this.#failures = 0
    this.#lastError = undefined
    this.#have = state.protectionEnabled ? 'on' : 'off'
    this.#expiresAt = state.expirationDate
    this.#renewTimer?.cancel()
    this.#renewTimer = undefined
    if (this.#have === 'on' && !this.#stopped) {
      this.#renewTimer = this.#timers.setTimeout(() => {
        this.#renewTimer = undefined
        this.#renewDue = true
        this.#reconcile()
      }, this.#renewAfterMs)
    }
  }
}

