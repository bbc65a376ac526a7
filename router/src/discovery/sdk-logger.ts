// The AWS SDK's log output through the router's JSON logger. The SDK client's
// `logger` option and its request handler's both get `sdkLogger()`, so nothing
// the SDK says reaches stdout or stderr as plain text: its per-call lines
// (success and failure) become debug — failed calls are counted in
// router_cloudmap_calls_total and survived by serving the last good list —
// and its warnings stay warn. The SDK's one-time
// Node-version notice, otherwise a process warning printed to stderr, becomes
// one JSON info line (`quietSdkNodeNotice`).

import type { ServiceDiscoveryClientConfig } from '@aws-sdk/client-servicediscovery'
import type { Logger } from '../log.js'

export type SdkLogger = NonNullable<ServiceDiscoveryClientConfig['logger']>

/** Longest JSON kept of one thing the SDK logs. */
const MAX_ITEM_CHARS = 2000

/** One SDK log argument as a JSON-safe value: strings as they are, errors by name and message, call records summarised. */
function describe(item: unknown): unknown {
  if (typeof item === 'string') return item
  if (item instanceof Error) return `${item.name}: ${item.message}`
  if (typeof item === 'object' && item !== null && 'commandName' in item) {
    const call: Record<string, unknown> = { commandName: item.commandName }
    if ('error' in item) call['error'] = describe(item.error)
    if ('metadata' in item && typeof item.metadata === 'object' && item.metadata !== null) {
      const m = item.metadata
      if ('httpStatusCode' in m) call['httpStatusCode'] = m.httpStatusCode
      if ('requestId' in m) call['requestId'] = m.requestId
    }
    return call
  }
  try {
    const text = JSON.stringify(item, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v instanceof Error ? `${v.name}: ${v.message}` : v))
    return text === undefined ? String(item) : text.length > MAX_ITEM_CHARS ? `${text.slice(0, MAX_ITEM_CHARS)}…` : JSON.parse(text)
  } catch {
    return String(item)
  }
}

/** An SDK `Logger` writing through `logger`, one JSON line per SDK call. */
export function sdkLogger(logger: Logger): SdkLogger {
  const at =
    (level: 'debug' | 'warn') =>
    (...content: unknown[]): void =>
      logger.log(level, 'aws sdk', { sdk: content.map(describe) })
  return { trace: at('debug'), debug: at('debug'), info: at('debug'), warn: at('warn'), error: at('debug') }
}

/**
 * Before the first SDK client: the SDK's notice that its releases after
 * January 2027 need Node 22 is logged once as JSON (on Node < 22) instead of
 * going to stderr as a process warning (the SDK's own switch turns that off).
 */
export function quietSdkNodeNotice(logger: Logger): void {
  const env = process.env
  if (env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] !== undefined) return
  env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'] = 'true'
  const major = Number(process.versions.node.split('.')[0])
  if (major < 22) logger.log('info', 'AWS SDK for JavaScript v3 releases after the first week of January 2027 need Node >= 22', { node: process.version })
}
