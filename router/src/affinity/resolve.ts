// Deployment affinity for one request of an app route: reads the app's
// registry through the discovery cache (a warmed registry never waits), pins
// to a known deployment only (a forged value causes no lookup), looks up the
// pinned deployment's endpoints through the same cache, and returns the
// deployment to resolve plus the Set-Cookie to send. Decisions: decide.ts.

import type { DiscoveryCache } from '../discovery/cache.js'
import type { Endpoint, Resolution, Target, TargetLookup } from '../discovery/discovery.js'
import { RouterError, TargetNotFoundError } from '../errors.js'
import { appStateFrom, registryService, type AppState } from './app-registry.js'
import { decide, readAffinity, type AffinityDecision, type AffinityOptions } from './decide.js'

/** The `affinity` option of an app route, parsed. */
export interface AffinityConfig extends AffinityOptions {
  /** App name; its registry is the Cloud Map service `_deployments.<app>`. */
  readonly app: string
}

export interface AffinityChoice extends AffinityDecision {
  /** Discovery target of the chosen deployment. */
  readonly target: Target
}

/** Parsed app states, per registry answer (the endpoint list is replaced whole on every refresh). */
const states = new WeakMap<readonly Endpoint[], AppState>()

function stateOf(resolution: Resolution): AppState {
  let s = states.get(resolution.endpoints)
  if (s === undefined) {
    s = appStateFrom(resolution.endpoints.map((e) => e.id))
    states.set(resolution.endpoints, s)
  }
  return s
}

/** The registry is always read as SRV (its markers' ids are the SRV targets), whatever the services' default record type. */
export const REGISTRY_LOOKUP: TargetLookup = { recordType: 'SRV', defaultPort: undefined }

/**
 * `lookup` is the route's own record type and port, used for the deployments
 * (pinned and chosen), so both share one cache entry per deployment.
 */
export async function chooseDeployment(
  cache: DiscoveryCache,
  cfg: AffinityConfig,
  headers: { readonly cookie?: string | undefined; readonly 'x-deployment'?: string | readonly string[] | undefined },
  secure: boolean,
  nowMs: number,
  lookup?: TargetLookup,
): Promise<AffinityChoice> {
  const registry: Target = { kind: 'service', service: registryService(cfg.app), lookup: REGISTRY_LOOKUP }
  const state = stateOf(cache.peek(registry) ?? (await cache.resolve(registry)))
  const req = readAffinity(headers, state, cfg)
  let pinned: readonly Endpoint[] | undefined
  if (req.pinned !== undefined && req.pinned.id !== state.current) {
    const t: Target = lookup !== undefined ? { kind: 'service', service: req.pinned.id, lookup } : { kind: 'service', service: req.pinned.id }
    try {
      pinned = (cache.peek(t) ?? (await cache.resolve(t))).endpoints
    } catch (err) {
      // A pinned deployment that is gone or cannot be resolved: fall back to current.
      if (!(err instanceof RouterError)) throw err
      pinned = []
    }
  }
  const d = decide(req, state, pinned, nowMs, cfg, secure)
  if (d === undefined) throw new TargetNotFoundError(`current deployment of app ${cfg.app}`)
  return { ...d, target: lookup !== undefined ? { kind: 'service', service: d.deployment, lookup } : { kind: 'service', service: d.deployment } }
}
