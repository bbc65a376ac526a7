// A demo HTTP backend for the local stack: one instance of a deployment that
// registers itself in Cloud Map through the AWS SDK (namespace, an SRV service
// named after the deployment, the instance) and deregisters on close — what a
// real per-deployment ECS service does with ECS service discovery.

import { createServer, type Server } from 'node:http'
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
}

export async function startDemoBackend(opts: DemoBackendOptions): Promise<DemoBackend> {
  const host = opts.host ?? '127.0.0.1'
  const server: Server = createServer((req, res) => {
    if (req.url === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end('{"status":"ok"}')
      return
    }
    req.resume()
    req.on('end', () => {
      const delay = opts.delayMs?.() ?? 0
      if (delay > 0) setTimeout(answer, delay)
      else answer()
    })
    const answer = (): void => {
      if (res.destroyed) return
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
  await registerInstance(opts.client, { serviceId, instanceId: opts.instanceId, ipv4: host, port, attributes: { status: 'ACTIVE', version: 'demo' } })
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
