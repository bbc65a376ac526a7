// The Cloud Map API calls discovery makes (DiscoverInstances and
// DiscoverInstancesRevision), on the AWS SDK client of sdk-client.ts
// (timeouts that fire, no SDK retries: the caller backs off itself, the SDK
// logs through our JSON logger). Outputs are parsed into typed values.

import {
  DiscoverInstancesCommand,
  DiscoverInstancesRevisionCommand,
  NamespaceNotFound,
  ServiceNotFound,
  type ServiceDiscoveryClient,
} from '@aws-sdk/client-servicediscovery'
import { createCloudMapClient, type CloudMapClientOptions } from './sdk-client.js'

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

export type SdkCloudMapApiOptions = CloudMapClientOptions

function health(v: string | undefined): ApiInstance['healthStatus'] {
  return v === 'HEALTHY' || v === 'UNHEALTHY' ? v : 'UNKNOWN'
}

export class SdkCloudMapApi implements CloudMapApi {
  readonly #client: ServiceDiscoveryClient

  constructor(opts: SdkCloudMapApiOptions) {
    this.#client = createCloudMapClient(opts)
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
