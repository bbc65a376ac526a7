// The one interface between the router core and target discovery.
// The core (routing, balancing, proxying) only sees `Target`, `Endpoint` and
// `Discovery`; the `dns`, `cloudmap` and `static` backends implement it and are
// the only modules that know where endpoints come from.

/** A route's own record type and port; without one the backend uses its per-service default. */
export interface TargetLookup {
  /** DNS mode: SRV (host+port per instance) or A (`defaultPort`). */
  readonly recordType: 'A' | 'SRV'
  /** Port with A records, or for an instance without one (SRV answer / AWS_INSTANCE_PORT). */
  readonly defaultPort: number | undefined
}

/** What a route asks discovery for. Names are already validated, lower-case DNS labels. */
export type Target =
  /** Every instance of a Cloud Map service (e.g. a deployment). */
  | { readonly kind: 'service'; readonly service: string; readonly lookup?: TargetLookup }
  /** One named instance of a Cloud Map service (e.g. a media node). */
  | { readonly kind: 'instance'; readonly service: string; readonly instanceId: string; readonly lookup?: TargetLookup }

/** One reachable instance, with whatever attributes the backend knows. */
export interface Endpoint {
  /** Stable identity: the Cloud Map InstanceId when known, else `host:port`. */
  readonly id: string
  readonly host: string
  readonly port: number
  /** Custom attributes (`status`, `weight`, `version`, `zone`...); empty for DNS. */
  readonly attributes: Readonly<Record<string, string>>
}

/** A successful answer. An empty `endpoints` list means "exists, nothing healthy". */
export interface Resolution {
  readonly endpoints: readonly Endpoint[]
  /** How long the answer may be cached, before the cache's clamps. */
  readonly ttlSeconds: number
}

export interface Discovery {
  /** Backend name for logs and metrics: `dns`, `cloudmap` or `static`. */
  readonly name: string
  /**
   * Resolve a target. Rejects with `TargetNotFoundError` when the target does
   * not exist (NXDOMAIN, unknown service/instance) and with
   * `DiscoveryUnavailableError` when the backend could not answer.
   */
  resolve(target: Target, signal?: AbortSignal): Promise<Resolution>
  close(): Promise<void>
}

/** Cache key / log form of a target. */
export function targetKey(target: Target): string {
  const base = target.kind === 'service' ? `service:${target.service}` : `instance:${target.service}/${target.instanceId}`
  const l = target.lookup
  return l === undefined ? base : `${base}@${l.recordType}${l.defaultPort !== undefined ? `:${l.defaultPort}` : ''}`
}
