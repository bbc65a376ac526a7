// The one way the router builds an AWS SDK Cloud Map client (discovery's
// DiscoverInstances calls and the admin dashboard's registry writes): region
// and endpoint from CLOUDMAP_REGION / CLOUDMAP_ENDPOINT, timeouts that fire —
// @smithy/node-http-handler's `connectionTimeout` (TCP connect) and
// `requestTimeout` (until the response head), which only logs a warning
// unless `throwOnRequestTimeout` is set, so it is; a stalled body is cut by
// `socketTimeout` — one attempt per call (callers back off or report
// themselves), and the SDK's own log lines through our JSON logger.

import { ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import type { SdkLogger } from './sdk-logger.js'

export interface CloudMapClientOptions {
  readonly region: string | undefined
  /** The local emulator; undefined: the region's Cloud Map endpoint. */
  readonly endpoint: string | undefined
  readonly connectTimeoutMs: number
  /** Whole call until the response head; also the longest silence while the body arrives. */
  readonly requestTimeoutMs: number
  readonly logger: SdkLogger
  /** Static credentials (the local emulator's dummy ones); default: the SDK's default credential chain. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string }
}

export function createCloudMapClient(opts: CloudMapClientOptions): ServiceDiscoveryClient {
  return new ServiceDiscoveryClient({
    ...(opts.region !== undefined ? { region: opts.region } : {}),
    ...(opts.credentials !== undefined ? { credentials: opts.credentials } : {}),
    ...(opts.endpoint !== undefined
      ? {
          endpoint: opts.endpoint,
          // DiscoverInstances* carry the `data-` host prefix; a custom endpoint (the emulator) has no such host.
          disableHostPrefix: true,
        }
      : {}),
    // One attempt: discovery backs off (with jitter) and keeps serving the last good list; a dashboard action reports its error.
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
