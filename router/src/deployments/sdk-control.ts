// The admin dashboard's DeploymentControl on the AWS SDK: the registry class
// `npm run deployments` uses, on a Cloud Map client built like discovery's
// (CLOUDMAP_REGION, CLOUDMAP_ENDPOINT for the emulator, CLOUDMAP_CONNECT_TIMEOUT_MS
// and CLOUDMAP_TIMEOUT_MS per call, one attempt, the SDK logging through our
// JSON logger). Only built when DEPLOYMENT_CONTROL is on.

import type { RouterConfig } from '../config.js'
import type { Logger } from '../log.js'
import { createCloudMapClient } from '../discovery/sdk-client.js'
import { quietSdkNodeNotice, sdkLogger } from '../discovery/sdk-logger.js'
import type { DeploymentControl } from './control.js'
import { DeploymentRegistry } from './registry.js'

/** Longest wait for one Cloud Map operation of a switch or drain (they take seconds in AWS). */
export const OPERATION_TIMEOUT_MS = 20_000

export function createDeploymentControl(
  config: RouterConfig,
  logger: Logger,
  credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string },
): DeploymentControl {
  quietSdkNodeNotice(logger)
  const c = config.cloudmap
  const client = createCloudMapClient({
    region: c.region,
    endpoint: c.endpoint,
    connectTimeoutMs: c.connectTimeoutMs,
    requestTimeoutMs: c.timeoutMs,
    logger: sdkLogger(logger),
    ...(credentials !== undefined ? { credentials } : {}),
  })
  return new DeploymentRegistry({ client, namespace: config.namespace, operationTimeoutMs: OPERATION_TIMEOUT_MS })
}
