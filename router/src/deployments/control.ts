// What the admin dashboard may do to an app's blue/green registry
// (docs/blue-green.md), without knowing where it lives: switch the current
// deployment, drain a deployment. registry.ts implements it on the Cloud Map
// API (the same class `npm run deployments` uses); tests may pass another.
// Failures that are the caller's or the registry's state carry a code the
// admin API turns into a status; anything else is the backend failing.

/**
 * Tags that scope a writing router's IAM rights (IAM cannot name a Cloud Map
 * service by its name for RegisterInstance, only by id or tag; infra/aws):
 * every app registry `npm run deployments` creates carries REGISTRY_TAG, and
 * every deployment service a router may drain carries DEPLOYMENT_TAG, both
 * valued with the namespace name.
 */
export const REGISTRY_TAG = 'edge-router:deployment-registry'
export const DEPLOYMENT_TAG = 'edge-router:deployment'

/** Why a registry operation was refused. */
export type DeploymentsErrorCode =
  /** An app or deployment id that is not a DNS label (or too long for a marker). */
  | 'INVALID'
  /** No such app registry, deployment service, or not one of the app's deployments. */
  | 'NOT_FOUND'
  /** The registry's state forbids it: draining the current deployment, too many markers. */
  | 'CONFLICT'
  /** A Cloud Map operation reported FAIL or did not finish. */
  | 'FAILED'

export class DeploymentsError extends Error {
  override readonly name = 'DeploymentsError'
  readonly code: DeploymentsErrorCode

  constructor(message: string, code: DeploymentsErrorCode = 'FAILED') {
    super(message)
    this.code = code
  }
}

export interface SwitchOptions {
  /**
   * Only switch to a deployment the registry already lists, and never create
   * the registry (the admin dashboard); false (the command line) also adds a
   * new deployment's marker and creates the registry on first use.
   */
  readonly knownOnly?: boolean
}

export interface SwitchResult {
  readonly previous: string | undefined
  readonly current: string
}

export interface DrainResult {
  /** ISO time of the drain deadline (whole seconds). */
  readonly deadline: string
  /** Instances marked DRAINING by this call. */
  readonly instances: number
}

/** Writes to app registries. */
export interface DeploymentControl {
  /** Make `deployment` the app's current deployment. Ids in any case; compared in lower case. */
  switchTo(app: string, deployment: string, options?: SwitchOptions): Promise<SwitchResult>
  /** Drain `deployment` until `deadlineMs` (epoch ms). */
  drain(app: string, deployment: string, deadlineMs: number): Promise<DrainResult>
  /** Release the client's connections. */
  close(): void
}
