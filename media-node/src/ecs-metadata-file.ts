// ECS container metadata file (`$ECS_CONTAINER_METADATA_FILE`). On EC2 with
// `ECS_ENABLE_CONTAINER_METADATA=true` the agent mounts a JSON file into each
// container; on bridge networking it is where the node learns the instance's
// address (`HostPrivateIPv4Address`) and the host port mapped to its own port
// (`PortMappings[].HostPort`), which task metadata v4 does not give. The agent
// writes the file when it creates the container and rewrites it once the
// container runs, with `MetadataFileStatus: "READY"`; until then the file is
// truncated. So this module polls the file until it is READY (bounded), then
// validates it into typed values.

import { readFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { isIPv4 } from 'node:net'
import { errorMessage, isRecord } from './guards.js'

/** What the node takes from a READY metadata file. */
export interface EcsMetadataFileInfo {
  /** `HostPrivateIPv4Address`: the container instance's private IPv4. */
  hostIpv4: string
  /** `HostPort` of the tcp `PortMappings` entry for the container port; undefined when there is none. */
  hostPort: number | undefined
  /** `Networks[0].NetworkMode`, when present (for the start-up log). */
  networkMode: string | undefined
  /** `TaskARN`, when present (for the start-up log). */
  taskArn: string | undefined
}

export interface ReadEcsMetadataFileOptions {
  /** The port the node listens on inside the container; used to find `HostPort`. */
  containerPort: number
  /** How long to wait for `MetadataFileStatus: "READY"`. Default 10000 ms. */
  timeoutMs?: number
  /** Delay between reads while the file is not READY. Default 100 ms. */
  pollMs?: number
  /** Called once, after the first read that found the file not READY (for a log line). */
  onWaiting?: (reason: string) => void
}

/** The metadata file is missing, never became READY, or is not of the documented shape. */
export class EcsMetadataFileError extends Error {
  readonly code = 'ECS_METADATA_FILE'
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'EcsMetadataFileError'
  }
}

/** Result of looking at one snapshot of the file. */
export type MetadataFileState = { ready: false; reason: string } | { ready: true; info: EcsMetadataFileInfo }

/**
 * Reads `path` until `MetadataFileStatus` is `READY` and returns its typed
 * contents. A missing or unparsable file and a file that is not READY yet are
 * read again every `pollMs`; past `timeoutMs` the last reason is thrown as an
 * EcsMetadataFileError. A READY file with a missing or malformed field throws
 * at once (it will not get better).
 */
export async function readEcsMetadataFile(path: string, options: ReadEcsMetadataFileOptions): Promise<EcsMetadataFileInfo & { reads: number }> {
  const timeoutMs = options.timeoutMs ?? 10_000
  const pollMs = options.pollMs ?? 100
  const deadline = Date.now() + timeoutMs
  let reads = 0
  for (;;) {
    reads++
    const state = await readOnce(path, options.containerPort)
    if (state.ready) return { ...state.info, reads }
    if (reads === 1) options.onWaiting?.(state.reason)
    if (Date.now() >= deadline) {
      throw new EcsMetadataFileError(`ECS container metadata file ${path} not READY after ${timeoutMs} ms (${reads} reads): ${state.reason}`)
    }
    await sleep(Math.max(1, Math.min(pollMs, deadline - Date.now())))
  }
}

async function readOnce(path: string, containerPort: number): Promise<MetadataFileState> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : undefined
    return { ready: false, reason: code === 'ENOENT' ? 'file not found' : `cannot read it: ${errorMessage(err)}` }
  }
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (err) {
    // The agent replaces the file by rename, so this is not a half-written file; keep trying until the deadline anyway.
    return { ready: false, reason: `not JSON: ${errorMessage(err)}` }
  }
  return parseEcsMetadataFile(doc, containerPort, path)
}

/**
 * Pure part of `readEcsMetadataFile`: one parsed snapshot of the file.
 * Not READY (no `MetadataFileStatus`, or another value) → `{ready: false}`;
 * READY → validated values, or EcsMetadataFileError naming the field.
 */
export function parseEcsMetadataFile(doc: unknown, containerPort: number, path = 'ECS_CONTAINER_METADATA_FILE'): MetadataFileState {
  if (!isRecord(doc)) throw new EcsMetadataFileError(`ECS container metadata file ${path} is not a JSON object`)
  const status = doc['MetadataFileStatus']
  if (status !== 'READY') return { ready: false, reason: `MetadataFileStatus is ${status === undefined ? 'not set' : JSON.stringify(status)}` }

  const hostIpv4 = doc['HostPrivateIPv4Address']
  if (typeof hostIpv4 !== 'string' || !isIPv4(hostIpv4)) {
    throw new EcsMetadataFileError(
      `ECS container metadata file ${path} is READY but has no HostPrivateIPv4Address IPv4 address (got ${JSON.stringify(hostIpv4) ?? 'nothing'})`,
    )
  }

  const mappings = doc['PortMappings']
  if (mappings !== undefined && mappings !== null && !Array.isArray(mappings)) {
    throw new EcsMetadataFileError(`ECS container metadata file ${path}: PortMappings is not an array`)
  }
  let hostPort: number | undefined
  for (const [i, mapping] of (Array.isArray(mappings) ? mappings : []).entries()) {
    if (!isRecord(mapping)) throw new EcsMetadataFileError(`ECS container metadata file ${path}: PortMappings[${i}] is not an object`)
    const protocol = mapping['Protocol']
    if (mapping['ContainerPort'] !== containerPort || (protocol !== undefined && protocol !== 'tcp')) continue
    const host = mapping['HostPort']
    if (typeof host !== 'number' || !Number.isInteger(host) || host < 1 || host > 65535) {
      throw new EcsMetadataFileError(`ECS container metadata file ${path}: PortMappings[${i}].HostPort for container port ${containerPort} is not a port number (got ${JSON.stringify(host) ?? 'nothing'})`)
    }
    // Docker lists a binding per address family (0.0.0.0 and ::) with the same HostPort; the first one is enough.
    hostPort = host
    break
  }

  const taskArn = typeof doc['TaskARN'] === 'string' ? doc['TaskARN'] : undefined
  const networks = doc['Networks']
  const first: unknown = Array.isArray(networks) ? networks[0] : undefined
  const mode = isRecord(first) ? first['NetworkMode'] : undefined
  return { ready: true, info: { hostIpv4, hostPort, networkMode: typeof mode === 'string' ? mode : undefined, taskArn } }
}

