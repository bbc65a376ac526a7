// A demo HTTP backend for the local stack: one instance of a deployment that
// registers itself in Cloud Map through the AWS SDK (namespace, an SRV service
// named after the deployment, the instance) and deregisters on close — what a
// real per-deployment ECS service does with ECS service discovery. It answers
// JSON naming its instance; with `echo` on it also echoes the request (method,
// path, query, headers, body), which is what the `echo` deployment does.

import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { ServiceDiscoveryClient } from '@aws-sdk/client-servicediscovery'
import { deregisterInstance, ensurePrivateDnsNamespace, ensureService, registerInstance } from './emulator/sdk-setup.js'

export interface DemoBackend {
  readonly deployment: string
  readonly instanceId: string
  readonly port: number
  close(): Promise<void>
}

export interface DemoBackendOptions {
  readonly client: ServiceDiscoveryClient
  readonly namespace: string
  readonly deployment: string
  readonly instanceId: string
  readonly host?: string
  /** Listen port (default 0, ephemeral). */
  readonly port?: number
  /** Milliseconds to wait before answering each request (a fault switch for load tests); default none. */
  readonly delayMs?: () => number
  /** Echo the request (query, headers, body) in the answer. Default false. */
  readonly echo?: boolean
  /** Custom Cloud Map attributes of the instance (added to status=ACTIVE, version=demo). */
  readonly attributes?: Readonly<Record<string, string>>
}

/** Longest request body the echo answers with (beyond: 413). */
export const ECHO_MAX_BODY_BYTES = 1024 * 1024

/** The request as the echo answers it: query as an object (repeated keys → arrays), body as text or base64. */
export function echoOf(req: IncomingMessage, body: Buffer): Record<string, unknown> {
  const target = req.url ?? '/'
  const q = target.indexOf('?')
  const query: Record<string, string | string[]> = {}
  for (const [k, v] of new URLSearchParams(q === -1 ? '' : target.slice(q + 1))) {
    const prev = query[k]
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v]
  }
  let text: string | undefined
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body)
  } catch {
    text = undefined
  }
  return {
    path: q === -1 ? target : target.slice(0, q),
    query,
    headers: req.headers,
    ...(text !== undefined ? { body: text } : { bodyBase64: body.toString('base64') }),
  }
}

export async function startDemoBackend(opts: DemoBackendOptions): Promise<DemoBackend> {
  const host = opts.host ?? '127.0.0.1'
  const server: Server = createServer((req, res) => {
    if (req.url === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end('{"status":"ok"}')
      return
    }
    const chunks: Buffer[] = []
    let size = 0
    let tooLarge = false
    req.on('data', (chunk: Buffer) => {
      if (opts.echo !== true || tooLarge) return
      size += chunk.length
      if (size > ECHO_MAX_BODY_BYTES) tooLarge = true
      else chunks.push(chunk)
    })
    req.on('end', () => {
      const delay = opts.delayMs?.() ?? 0
      if (delay > 0) setTimeout(answer, delay)
      else answer()
    })
    const answer = (): void => {
      if (res.destroyed) return
      if (tooLarge) {
        const text = JSON.stringify({ error: `the echo answers bodies up to ${ECHO_MAX_BODY_BYTES} bytes`, code: 'PAYLOAD_TOO_LARGE' })
        res.writeHead(413, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
        res.end(text)
        return
      }
      const body = JSON.stringify(
        {
          deployment: opts.deployment,
          instance: opts.instanceId,
          method: req.method,
          path: req.url,
          forwarded: {
            for: req.headers['x-forwarded-for'],
            proto: req.headers['x-forwarded-proto'],
            host: req.headers['x-forwarded-host'],
            prefix: req.headers['x-forwarded-prefix'],
            requestId: req.headers['x-request-id'],
          },
          ...(opts.echo === true ? echoOf(req, Buffer.concat(chunks)) : {}),
        },
        null,
        2,
      )
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) })
      res.end(`${body}`)
    }
  })
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, host, () => resolve()))
  const port = (server.address() as AddressInfo).port
  const namespaceId = await ensurePrivateDnsNamespace(opts.client, opts.namespace)
  const serviceId = await ensureService(opts.client, { namespaceId, name: opts.deployment, records: [{ type: 'SRV', ttl: 5 }], customHealth: true })
  await registerInstance(opts.client, { serviceId, instanceId: opts.instanceId, ipv4: host, port, attributes: { status: 'ACTIVE', version: 'demo', ...opts.attributes } })
  return {
    deployment: opts.deployment,
    instanceId: opts.instanceId,
    port,
    close: async () => {
      await deregisterInstance(opts.client, serviceId, opts.instanceId).catch(() => undefined)
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}
