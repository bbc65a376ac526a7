// The dashboard's deployment actions on blue/green apps: make a deployment
// the app's current one, drain one. Checks come first and cost nothing: both
// ids must be DNS labels (upper case accepted, used in lower case), the
// action must be on (DEPLOYMENT_CONTROL), the app must be one of the route
// table's affinity apps; only then the registry is written through the
// DeploymentControl (the class `npm run deployments` uses), which refuses a
// deployment the registry does not list. Every refusal and failure is a
// RouterError with its status and code; each write is logged.

import type { Logger } from '../log.js'
import { RouterError } from '../errors.js'
import { captureLabel } from '../routing/dns-label.js'
import { MAX_DEPLOYMENT_ID } from '../affinity/app-registry.js'
import { apiErrorKind } from '../discovery/cloudmap-api.js'
import { DeploymentsError, type DeploymentControl } from '../deployments/control.js'
import { parseDeadline } from '../deployments/deadline.js'

export interface DeploymentActionsOptions {
  /** Undefined: the actions are off (409 ACTION_DISABLED, with `disabledReason`). */
  readonly control: DeploymentControl | undefined
  readonly disabledReason: string
  /** The route table's blue/green app names now. */
  readonly apps: () => Promise<readonly string[]>
  readonly logger?: Logger
  /** Wall clock, epoch ms (drain deadlines). Default Date.now. */
  readonly wallClock?: () => number
}

/** Who asked, for the log line. */
export type Actor = 'session' | 'bearer'

/** A drain without a deadline: as `npm run deployments -- drain`. */
export const DEFAULT_DRAIN_DEADLINE = '15m'
/** The longest drain the dashboard accepts (the longest affinity cookie a route may set). */
export const MAX_DRAIN_MS = 30 * 24 * 3600 * 1000

export interface SwitchAnswer {
  readonly app: string
  readonly previous: string | null
  readonly current: string
}

export interface DrainAnswer {
  readonly app: string
  readonly deployment: string
  readonly deadline: string
  readonly instances: number
}

export class DeploymentActions {
  readonly #o: DeploymentActionsOptions
  readonly #now: () => number

  constructor(o: DeploymentActionsOptions) {
    this.#o = o
    this.#now = o.wallClock ?? Date.now
  }

  get enabled(): boolean {
    return this.#o.control !== undefined
  }

  /** Why the actions are off, or null. */
  get disabledReason(): string | null {
    return this.enabled ? null : this.#o.disabledReason
  }

  async switchTo(appId: string, deploymentId: string, actor: Actor): Promise<SwitchAnswer> {
    const { app, deployment } = ids(appId, deploymentId)
    const control = await this.#usable(app)
    const r = await this.#call(() => control.switchTo(app, deployment, { knownOnly: true }))
    this.#o.logger?.log('info', 'deployment switched', { app, previous: r.previous ?? null, current: r.current, by: actor })
    return { app, previous: r.previous ?? null, current: r.current }
  }

  /** `deadline`: `15m`, `90s`, `2h` or an ISO time; default 15 minutes. */
  async drain(appId: string, deploymentId: string, deadline: string | undefined, actor: Actor): Promise<DrainAnswer> {
    const { app, deployment } = ids(appId, deploymentId)
    const deadlineMs = this.#deadline(deadline)
    const control = await this.#usable(app)
    const r = await this.#call(() => control.drain(app, deployment, deadlineMs))
    this.#o.logger?.log('info', 'deployment draining', { app, deployment, deadline: r.deadline, instances: r.instances, by: actor })
    return { app, deployment, deadline: r.deadline, instances: r.instances }
  }

  close(): void {
    this.#o.control?.close()
  }

  /** The control, once the actions are on and `app` is one of the route table's apps. */
  async #usable(app: string): Promise<DeploymentControl> {
    const control = this.#o.control
    if (control === undefined) throw new RouterError(`deployment actions are off: ${this.#o.disabledReason}`, 'ACTION_DISABLED', 409)
    const apps = await this.#o.apps()
    if (!apps.includes(app)) throw new RouterError(`no route with affinity serves app ${app} (apps: ${apps.join(', ') || 'none'})`, 'APP_NOT_FOUND', 404)
    return control
  }

  #deadline(text: string | undefined): number {
    const now = this.#now()
    const ms = parseDeadline(text ?? DEFAULT_DRAIN_DEADLINE, now)
    if (ms === undefined) throw new RouterError('deadline: expected 15m, 90s, 2h or an ISO time', 'INVALID_DEADLINE', 400)
    if (ms <= now || ms - now > MAX_DRAIN_MS) throw new RouterError('deadline: must be in the future and at most 30 days away', 'INVALID_DEADLINE', 400)
    return ms
  }

  /** Runs a registry write; its failures as RouterErrors. */
  async #call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (err) {
      throw toRouterError(err)
    }
  }
}

/** Both ids as DNS labels, in lower case (checked before anything is called). */
function ids(appId: string, deploymentId: string): { app: string; deployment: string } {
  const app = captureLabel(appId)
  if (app === undefined) throw new RouterError('app must be a DNS label', 'INVALID_TARGET', 400)
  const deployment = captureLabel(deploymentId)
  if (deployment === undefined) throw new RouterError("deployment id must be a DNS label (letters, digits, '-')", 'INVALID_TARGET', 400)
  if (deployment.length > MAX_DEPLOYMENT_ID) throw new RouterError(`deployment ids have at most ${MAX_DEPLOYMENT_ID} characters`, 'INVALID_TARGET', 400)
  return { app, deployment }
}

/** A registry or Cloud Map failure as the admin API answers it. */
export function toRouterError(err: unknown): RouterError {
  if (err instanceof RouterError) return err
  if (err instanceof DeploymentsError) {
    switch (err.code) {
      case 'INVALID':
        return new RouterError(err.message, 'INVALID_TARGET', 400)
      case 'NOT_FOUND':
        return new RouterError(err.message, 'DEPLOYMENT_NOT_FOUND', 404)
      case 'CONFLICT':
        return new RouterError(err.message, 'DEPLOYMENT_CONFLICT', 409)
      case 'FAILED':
        return new RouterError(`Cloud Map: ${err.message}`, 'CLOUDMAP_ERROR', 502, {}, { cause: err })
    }
  }
  const what = err instanceof Error ? `${err.name}: ${err.message}` : String(err)
  switch (apiErrorKind(err)) {
    case 'throttled':
      return new RouterError(`Cloud Map throttled the call (${what}); try again`, 'CLOUDMAP_THROTTLED', 503, { 'retry-after': '5' }, { cause: err })
    case 'timeout':
      return new RouterError(`Cloud Map did not answer in time (${what})`, 'CLOUDMAP_TIMEOUT', 504, {}, { cause: err })
    case 'client':
      return new RouterError(`Cloud Map refused the call (${what}); the router's role needs the rights of docs/infrastructure.md`, 'CLOUDMAP_REFUSED', 502, {}, { cause: err })
    default:
      return new RouterError(`Cloud Map failed (${what})`, 'CLOUDMAP_ERROR', 502, {}, { cause: err })
  }
}
