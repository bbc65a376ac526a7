// ECS task metadata v4. Reads `${ECS_CONTAINER_METADATA_URI_V4}` (this
// container) and `${ECS_CONTAINER_METADATA_URI_V4}/task` (the task) and turns
// the JSON into the few typed facts the node needs: task id, region, the IPv4
// to advertise and, on bridge networking, the host port mapped to ours.

import { isIPv4 } from 'node:net'
import { nodeIdFromTaskArn } from './node-id.js'
import { errorMessage, isRecord } from './guards.js'

/** What the node learns from the metadata endpoint. */
export interface EcsTaskInfo {
  /** `TaskARN` of the task document. */
  taskArn: string
  /** Last path segment of the task ARN, lower-cased: a valid DNS label. */
  taskId: string
  /** Region from the task ARN (`arn:aws:ecs:<region>:...`). */
  region: string | undefined
  /** `NetworkMode` of the container's first network (`awsvpc`, `bridge`, `host`, ...). */
  networkMode: string | undefined
  /**
   * The address other hosts reach this container on: the task ENI address on
   * `awsvpc`. Undefined on `bridge` (the container address is private to the
   * host) and when the document lists none.
   */
  ipv4: string | undefined
  /** On bridge networking, the `HostPort` mapped to `containerPort` (tcp). */
  hostPort: number | undefined
}

export interface ReadEcsMetadataOptions {
  /** The port the node listens on inside the container; used to find `HostPort`. */
  containerPort: number
  /** Per-request timeout. Default 2000 ms. */
  timeoutMs?: number
}

/** The metadata endpoint could not be read or its JSON is not of the expected shape. */
export class EcsMetadataError extends Error {
  readonly code = 'ECS_METADATA'
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'EcsMetadataError'
  }
}

/** Fetches and parses the container and task documents under `baseUri`. */
export async function readEcsMetadata(baseUri: string, options: ReadEcsMetadataOptions): Promise<EcsTaskInfo> {
  const timeoutMs = options.timeoutMs ?? 2000
  const base = baseUri.replace(/\/+$/, '')
  const [container, task] = await Promise.all([getJson(base, timeoutMs), getJson(`${base}/task`, timeoutMs)])
  return parseEcsMetadata(container, task, options.containerPort)
}

/**
 * Pure part of `readEcsMetadata`: validates the two documents. Throws
 * EcsMetadataError naming the field that is missing or malformed.
 */
export function parseEcsMetadata(container: unknown, task: unknown, containerPort: number): EcsTaskInfo {
  if (!isRecord(task)) throw new EcsMetadataError('task document is not a JSON object')
  if (!isRecord(container)) throw new EcsMetadataError('container document is not a JSON object')
  const taskArn = task['TaskARN']
  if (typeof taskArn !== 'string') throw new EcsMetadataError('task document has no TaskARN string')
  const taskId = nodeIdFromTaskArn(taskArn)
  if (taskId === undefined) throw new EcsMetadataError(`TaskARN ${JSON.stringify(taskArn)} has no task id usable as a DNS label`)
  const region = taskArn.split(':')[3] || undefined

  const networks = optionalArray(container['Networks'], 'container Networks')
  const first = networks[0]
  let networkMode: string | undefined
  let ipv4: string | undefined
  if (first !== undefined) {
    if (!isRecord(first)) throw new EcsMetadataError('container Networks[0] is not an object')
    const mode = first['NetworkMode']
    if (mode !== undefined && typeof mode !== 'string') throw new EcsMetadataError('container Networks[0].NetworkMode is not a string')
    networkMode = mode
    const addresses = optionalArray(first['IPv4Addresses'], 'container Networks[0].IPv4Addresses')
    const address = addresses[0]
    if (address !== undefined && (typeof address !== 'string' || !isIPv4(address))) {
      throw new EcsMetadataError(`container Networks[0].IPv4Addresses[0] is not an IPv4 address: ${JSON.stringify(address)}`)
    }
    // On bridge networking the container address is private to the host.
    if (networkMode !== 'bridge') ipv4 = address
  }

  let hostPort: number | undefined
  for (const port of optionalArray(container['Ports'], 'container Ports')) {
    if (!isRecord(port)) continue
    const protocol = port['Protocol']
    if (port['ContainerPort'] !== containerPort || (protocol !== undefined && protocol !== 'tcp')) continue
    const host = port['HostPort']
    if (typeof host === 'number' && Number.isInteger(host) && host > 0 && host < 65536) {
      hostPort = host
      break
    }
  }
  return { taskArn, taskId, region, networkMode, ipv4, hostPort }
}

async function getJson(url: string, timeoutMs: number): Promise<unknown> {
  let response: Response
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) })
  } catch (err) {
    throw new EcsMetadataError(`GET ${url} failed: ${errorMessage(err)}`, { cause: err })
  }
  if (!response.ok) {
    await response.body?.cancel()
    throw new EcsMetadataError(`GET ${url} answered ${response.status}`)
  }
  try {
    return await response.json()
  } catch (err) {
    throw new EcsMetadataError(`GET ${url} did not return JSON: ${errorMessage(err)}`, { cause: err })
  }
}

function optionalArray(value: unknown, what: string): readonly unknown[] {
  if (value === undefined || value === null) return []
  if (!Array.isArray(value)) throw new EcsMetadataError(`${what} is not an array`)
  return value
}

