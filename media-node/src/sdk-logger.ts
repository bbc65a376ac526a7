// The AWS SDK's log output as the node's JSON log events. The Cloud Map
// client's `logger` and its request handler's get `sdkLogger()`, so nothing
// the SDK says reaches stdout or stderr as plain text: its per-call lines
// (success and failure) are debug, since the caller reports the failures that
// matter (registration logs each failed attempt; CustomHealthNotFound is
// expected), and its warnings are warn. The SDK's one-time Node-version notice, otherwise a
// process warning on stderr, becomes one JSON info event (`quietSdkNodeNotice`).
// (The router has its own copy for its logger: each image ships only its
// own folder.)

import type { ServiceDiscoveryClientConfig } from '@aws-sdk/client-servicediscovery'
import type { Logger } from './log.js'

export type SdkLogger = NonNullable<ServiceDiscoveryClientConfig['logger']>

/** What the SDK passes, as JSON-safe text: errors by name and message, call records by command and status. */
function summary(item: unknown): string {
  if (typeof item === 'string') return item
  if (item instanceof Error) return `${item.name}: ${item.message}`
  if (typeof item !== 'object' || item === null) return String(item)
  const parts: string[] = []
  if ('commandName' in item) parts.push(String(item.commandName))
  if ('error' in item) parts.push(summary(item.error))
  if ('metadata' in item && typeof item.metadata === 'object' && item.metadata !== null && 'httpStatusCode' in item.metadata) parts.push(`HTTP ${String(item.metadata.httpStatusCode)}`)
  return parts.length > 0 ? parts.join(' ') : Object.prototype.toString.call(item)
}

/** An SDK `Logger` that emits one event per SDK log call. */
export function sdkLogger(log: Logger): SdkLogger {
  const emit = (level: 'debug' | 'warn') => (...content: unknown[]) => log({ level, msg: 'aws sdk', sdk: content.map(summary) })
  return { trace: emit('debug'), debug: emit('debug'), info: emit('debug'), warn: emit('warn'), error: emit('debug') }
}

/**
 * Before the first SDK client: on Node < 22 the SDK's notice that its releases
 * after January 2027 need Node 22 is one JSON event instead of a process
 * warning on stderr (the SDK's own environment switch turns that off).
 */
export function quietSdkNodeNotice(log: Logger): void {
  if (process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] !== undefined) return
  process.env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true'
  if (Number(process.versions.node.split('.')[0]) < 22) log({ level: 'info', msg: 'AWS SDK for JavaScript v3 releases after the first week of January 2027 need Node >= 22', node: process.version })
}
