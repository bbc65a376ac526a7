// `npm run deployments -- list|switch|drain …`: the command-line face of
// router/src/deployments/registry.ts (the router's admin dashboard writes
// through the same class). Talks to the Cloud Map endpoint given by --endpoint or
// CLOUDMAP_ENDPOINT (the local emulator) and otherwise to real Cloud Map with
// the SDK's normal region and credential chain. Exit 0 done, 1 failed, 2 usage.

import { realpathSync } from 'node:fs'
import { pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { ServiceDiscoveryClient, type ServiceDiscoveryClientConfig } from '@aws-sdk/client-servicediscovery'
import { DeploymentRegistry, DeploymentsError, type AppListing } from '../../../router/src/deployments/registry.js'
import { parseDeadline as parseDeadlineText } from '../../../router/src/deployments/deadline.js'

const USAGE = `usage:
  npm run deployments -- list <app> [--json]
  npm run deployments -- switch <app> <deploymentId>
  npm run deployments -- drain <app> <deploymentId> [--deadline 15m | 90s | 2h | <ISO time>]
options:
  --endpoint URL     Cloud Map API endpoint (default: CLOUDMAP_ENDPOINT, else AWS)
  --region R         AWS region (default: CLOUDMAP_REGION, AWS_REGION, the SDK chain; us-east-1 with --endpoint)
  --namespace NS     private DNS namespace (default: CLOUDMAP_NAMESPACE or ecs.internal)
  --ttl S            TTL of the registry's SRV records when it is created (default 5)`

class UsageError extends Error {}

/** `15m`, `90s`, `2h`, `500ms` or an ISO time → epoch ms. */
export function parseDeadline(text: string, nowMs: number): number {
  const ms = parseDeadlineText(text, nowMs)
  if (ms === undefined) throw new UsageError(`--deadline ${JSON.stringify(text)}: expected 15m, 90s, 2h or an ISO time`)
  return ms
}

function clientConfig(endpoint: string | undefined, region: string | undefined): ServiceDiscoveryClientConfig {
  if (endpoint === undefined) return region !== undefined ? { region } : {}
  const env = process.env
  return {
    endpoint,
    region: region ?? 'us-east-1',
    // DiscoverInstances carries the `data-` host prefix, which a custom endpoint (the emulator) does not have.
    disableHostPrefix: true,
    // The emulator checks no signature; real credentials are used when present.
    ...(env['AWS_ACCESS_KEY_ID'] === undefined && env['AWS_PROFILE'] === undefined ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
  }
}

function formatListing(l: AppListing): string {
  const lines = [`app ${l.app} (registry ${l.registry}): current ${l.current ?? '(none)'}`]
  lines.push('  deployment                                     current  instances  healthy  unhealthy  draining  drain deadline')
  for (const d of l.deployments) {
    const i = d.instances
    const counts = i === undefined ? 'no such service' : `${String(i.total).padStart(9)}  ${String(i.healthy).padStart(7)}  ${String(i.unhealthy).padStart(9)}  ${String(i.draining).padStart(8)}`
    const drain = d.drainDeadline === undefined ? '' : `  ${d.drainDeadline}${d.drained ? ' (passed)' : ''}`
    lines.push(`  ${d.id.padEnd(45)}  ${(d.current ? 'yes' : '').padEnd(7)}  ${counts}${drain}`)
  }
  if (l.deployments.length === 0) lines.push('  (no deployments: switch to one first)')
  return lines.join('\n')
}

export async function main(argv: readonly string[], out: (s: string) => void = (s) => process.stdout.write(`${s}\n`)): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: {
        endpoint: { type: 'string' },
        region: { type: 'string' },
        namespace: { type: 'string' },
        ttl: { type: 'string' },
        deadline: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    })
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`)
    return 2
  }
  const { values: v, positionals: [cmd, app, dep, ...extra] } = parsed
  if (v.help === true) {
    out(USAGE)
    return 0
  }
  const env = process.env
  const endpoint = v.endpoint ?? (env['CLOUDMAP_ENDPOINT'] || undefined)
  const region = v.region ?? (env['CLOUDMAP_REGION'] || env['AWS_REGION'] || undefined)
  const namespace = v.namespace ?? (env['CLOUDMAP_NAMESPACE'] || 'ecs.internal')
  const client = new ServiceDiscoveryClient(clientConfig(endpoint, region))
  try {
    if (extra.length > 0 || app === undefined) throw new UsageError('wrong number of arguments')
    const ttl = v.ttl === undefined ? undefined : Number(v.ttl)
    if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < 0)) throw new UsageError('--ttl must be a whole number of seconds')
    const registry = new DeploymentRegistry({ client, namespace, ...(ttl !== undefined ? { ttlSeconds: ttl } : {}) })
    switch (cmd) {
      case 'list': {
        if (dep !== undefined) throw new UsageError('list takes one app')
        const listing = await registry.list(app)
        out(v.json === true ? JSON.stringify(listing) : formatListing(listing))
        return 0
      }
      case 'switch': {
        if (dep === undefined) throw new UsageError('switch <app> <deploymentId>')
        const r = await registry.switchTo(app, dep)
        out(`app ${app}: current ${r.previous ?? '(none)'} → ${r.current}`)
        return 0
      }
      case 'drain': {
        if (dep === undefined) throw new UsageError('drain <app> <deploymentId>')
        const r = await registry.drain(app, dep, parseDeadline(v.deadline ?? '15m', Date.now()))
        out(`app ${app}: ${dep.toLowerCase()} draining until ${r.deadline} (${r.instances} instance(s) marked DRAINING)`)
        return 0
      }
      default:
        throw new UsageError(`unknown command ${JSON.stringify(cmd ?? '')}`)
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n${USAGE}\n`)
      return 2
    }
    process.stderr.write(`${err instanceof DeploymentsError ? err.message : err instanceof Error ? `${err.name}: ${err.message}` : String(err)}\n`)
    return 1
  } finally {
    client.destroy()
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  process.exitCode = await main(process.argv.slice(2))
}
