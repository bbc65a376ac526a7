// The Cloud Map API calls the router makes (DiscoverInstances and
// DiscoverInstancesRevision), on the AWS SDK, with timeouts that fire and no
// SDK retries (the caller backs off itself). Timeouts: @smithy/node-http-handler's
// `connectionTimeout` (TCP connect) and `requestTimeout` (until the response
// head) — the latter only logs a warning unless `throwOnRequestTimeout` is set,
// so it is; a stalled body is cut by `socketTimeout` (idle socket). The SDK
// logs through our JSON logger. Outputs are parsed into typed values.

import {
  DiscoverInstancesCommand,
  DiscoverInstancesRevisionCommand,
  NamespaceNotFound,
  ServiceDiscoveryClient,
  ServiceNotFound,
} from '@aws-sdk/client-servicediscovery'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import type { SdkLogger } from './sdk-logger.js'

export interface ApiInstance {
  readonly instanceId: string
  readonly healthStatus: 'HEALTHY' | 'UNHEALTHY' | 'UNKNOWN'
  readonly attributes: Readonly<Record<string, string>>
}

export interface ApiInstances {
  readonly instances: readonly ApiInstance[]
  readonly revision: number | undefined
}

/** What discovery needs from Cloud Map; tests and the SDK both provide it. */
export interface CloudMapApi {
  discoverInstances(namespace: string, service: string, signal?: AbortSignal): Promise<ApiInstances>
  discoverRevision(namespace: string, service: string, signal?: AbortSignal): Promise<number | undefined>
  close(): void
}

/** Thrown for NamespaceNotFound / ServiceNotFound. */
export class CloudMapNotFound extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'CloudMapNotFound'
  }
}

export interface SdkCloudMapApiOptions {
  readonly region: string | undefined
  readonly endpoint: string | undefined
  readonly connectTimeoutMs: number
  /** Whole call until the response head; also the longest silence while the body arrives. */
  readonly requestTimeoutMs: number
  /** Where the SDK's own log lines go. */
  readonly logger: SdkLogger
  /** Static credentials (the local emulator's dummy ones); default: the SDK's default credential chain. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string }
}

function health(v: string | undefined): ApiInstance['healthStatus'] {
  return v === 'HEALTHY' || v === 'UNHEALTHY' ? v : 'UNKNOWN'
}

export class SdkCloudMapApi implements CloudMapApi {
  readonly #client: ServiceDiscoveryClient

  constructor(opts: SdkCloudMapApiOptions) {
    this.#client = new ServiceDiscoveryClient({
      ...(opts.region !== undefined ? { region: opts.region } : {}),
      ...(opts.credentials !== undefined ? { credentials: opts.credentials } : {}),
      ...(opts.endpoint !== undefined
        ? {
            endpoint: opts.endpoint,
            // DiscoverInstances* carry the `data-` host prefix; a custom endpoint (the emulator) has no such host.
            disableHostPrefix: true,
          }
        : {}),
      // One attempt: CloudMapDiscovery backs off (with jitter) and keeps serving the last good list.
      maxAttempts: 1,
      logger: opts.logger,
      requestHandler: new NodeHttpHandler({
        connectionTimeout: opts.connectTimeoutMs,
        requestTimeout: opts.requestTimeoutMs,
        throwOnRequestTimeout: true,
        socketTimeout: opts.requestTimeoutMs,
        logger: opts.logger,
      }),
    })
  }

  async discoverInstances(namespace: string, service: string, signal?: AbortSignal): Promise<ApiInstances> {
    try {
      const out = await this.#client.send(
        new DiscoverInstancesCommand({ NamespaceName: namespace, ServiceName: service, HealthStatus: 'ALL', MaxResults: 1000 }),
        signal !== undefined ? { abortSignal: signal } : {},
      )
      const instances: ApiInstance[] = []
      for (const i of out.Instances ?? []) {
        if (typeof i.InstanceId !== 'string' || i.InstanceId === '') continue
        const attributes: Record<string, string> = {}
        for (const [k, v] of Object.entries(i.Attributes ?? {})) if (typeof v === 'string') attributes[k] = v
        instances.push({ instanceId: i.InstanceId, healthStatus: health(i.HealthStatus), attributes })
      }
      return { instances, revision: typeof out.InstancesRevision === 'number' ? out.InstancesRevision : undefined }
    } catch (err) {
      throw this.#map(err, namespace, service)
    }
  }

  async discoverRevision(namespace: string, service: string, signal?: AbortSignal): Promise<number | undefined> {
    try {
      const out = await this.#client.send(
        new DiscoverInstancesRevisionCommand({ NamespaceName: namespace, ServiceName: service }),
        signal !== undefined ? { abortSignal: signal } : {},
      )
      return typeof out.InstancesRevision === 'number' ? out.InstancesRevision : undefined
    } catch (err) {
      throw this.#map(err, namespace, service)
    }
  }

  close(): void {
    this.#client.destroy()
  }

  #map(err: unknown, namespace: string, service: string): unknown {
    if (err instanceof ServiceNotFound || err instanceof NamespaceNotFound) return new CloudMapNotFound(`service ${service} not found in ${namespace}`)
    return err
  }
}

/** Outcome class of an API error for metrics and backoff. */
export function apiErrorKind(err: unknown): 'throttled' | 'server' | 'client' | 'timeout' | 'network' {
  const name = err instanceof Error ? err.name : ''
  const meta: unknown = typeof err === 'object' && err !== null && '$metadata' in err ? err.$metadata : undefined
  const status = typeof meta === 'object' && meta !== null && 'httpStatusCode' in meta && typeof meta.httpStatusCode === 'number' ? meta.httpStatusCode : undefined
  if (name === 'RequestLimitExceeded' || name === 'ThrottlingException' || name === 'TooManyRequestsException' || status === 429) return 'throttled'
  if (name === 'TimeoutError' || name === 'RequestTimeout' || name === 'AbortError') return 'timeout'
  if (status !== undefined && status >= 500) return 'server'
  if (status !== undefined && status >= 400) return 'client'
  return 'network'
}
