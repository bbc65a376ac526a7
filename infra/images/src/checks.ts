// The checks against the built images and their running containers (tap
// subtests): image config and contents, our layers' size, then a media node
// and a router container on the host network (127.0.0.1 only) — health, a
// request and a WebSocket proxied by the router to real upstreams, PID 1 and
// its uid, `podman healthcheck run`, and `podman stop` with the documented
// grace period: the router drains (/health 503 while it still serves) and
// both exit 0.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Test } from 'tap'
import { contentProblems, lockPackages } from './image-content.js'
import type { LockPackages } from './image-content.js'
import { isRecord, parseJson } from './json.js'
import { ourLayers } from './layers.js'
import type { Podman } from './podman.js'
import { echo, freePort, get, openWebSocket, startEchoUpstream, waitForStatus } from './probes.js'

/** Our layers' size goal per image (bytes). */
export const OUR_LAYERS_LIMIT_BYTES = 25 * 1024 * 1024

/** One image the test builds. */
export interface ImageUnderTest {
  readonly dockerfile: string
  /** Local tag the test builds it as. */
  readonly ref: string
  /** The name the README's `docker run` uses. */
  readonly documentedName: string
  /** The compiled folder the image carries, e.g. `dist/router`. */
  readonly distDir: string
  readonly main: string
  /** `--stop-timeout` of the README's `docker run`, seconds. */
  readonly stopTimeoutSeconds: number
}

/** Everything the checks need. */
export interface CheckContext {
  readonly podman: Podman
  readonly root: string
  readonly baseRef: string
  readonly router: ImageUnderTest
  readonly mediaNode: ImageUnderTest
  /** Containers started here, for the caller's clean-up. */
  readonly containers: string[]
}

const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`

/** Config, contents and size of one built image. */
async function imageChecks(t: Test, ctx: CheckContext, image: ImageUnderTest, lock: LockPackages): Promise<void> {
  const { podman } = ctx
  const config = await podman.imageConfig(image.ref)
  t.match(config.healthcheck.join(' '), /\/health/, 'HEALTHCHECK kept in the image config (docker format) and requests /health')
  t.equal(config.user, 'node', 'USER node')
  t.equal(config.stopSignal, 'SIGTERM', 'STOPSIGNAL SIGTERM')
  t.same(config.cmd, ['node', image.main], 'CMD starts the compiled entrypoint')
  t.ok(config.env.includes('NODE_ENV=production'), 'NODE_ENV=production')
  const port = config.env.find((e) => e.startsWith('PORT='))?.slice('PORT='.length)
  t.ok(port !== undefined && config.exposedPorts.includes(`${port}/tcp`), `EXPOSE includes PORT (${port ?? 'unset'})`)

  const listing = await podman.must(['run', '--rm', '--network=none', '--entrypoint', 'find', image.ref, '/app', '-type', 'f'])
  const files = listing.split('\n').filter((l) => l.startsWith('/app/')).map((l) => l.slice('/app/'.length))
  t.ok(files.includes(image.main), `${image.main} is in the image`)
  t.same(contentProblems(files, lock, image.distDir), [], `/app (${files.length} files): no source maps, tests, sources or dev dependencies`)

  const layers = ourLayers(await podman.history(image.ref), await podman.history(ctx.baseRef))
  const ours = layers.reduce((sum, l) => sum + l.size, 0)
  t.comment(`${image.dockerfile}: image ${mb(config.size)}, our layers ${mb(ours)} (base ${mb(config.size - ours)})`)
  for (const l of layers) if (l.size > 0) t.comment(`  ${mb(l.size).padStart(8)}  ${l.createdBy.replace(/^\/bin\/sh -c (#\(nop\) )?/, '').slice(0, 90)}`)
  t.ok(ours <= OUR_LAYERS_LIMIT_BYTES, `our layers ${mb(ours)} <= ${mb(OUR_LAYERS_LIMIT_BYTES)}`)
}

/** Start a container on the host network; resolves once `podman run -d` returned. */
async function start(ctx: CheckContext, name: string, image: ImageUnderTest, env: Record<string, string>, extra: readonly string[] = []): Promise<void> {
  await ctx.podman.run(['rm', '--force', '--ignore', name])
  ctx.containers.push(name)
  const envArgs = Object.entries(env).flatMap(([k, v]) => ['--env', `${k}=${v}`])
  await ctx.podman.must(['run', '--detach', '--name', name, '--network=host', '--stop-timeout', String(image.stopTimeoutSeconds), ...envArgs, ...extra, image.ref])
}

/** Wait until the container logs `msg` (its own "listening" line), or fail with its log. */
async function waitForLog(podman: Podman, name: string, msg: string, timeoutMs: number): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const line = (await logLines(podman, name)).find((l) => l.msg === msg)
    if (line !== undefined) return line
    if (!(await running(podman, name)) || Date.now() > deadline) {
      const r = await podman.run(['logs', '--tail', '20', name])
      throw new Error(`${name} never logged "${msg}" (${(await running(podman, name)) ? 'timed out' : 'exited'}):\n${r.stdout}${r.stderr}`)
    }
    await new Promise((r) => setTimeout(r, 250))
  }
}

/** Whether the container has not exited yet (running, or stopping: draining after SIGTERM). */
async function running(podman: Podman, name: string): Promise<boolean> {
  const r = await podman.run(['inspect', '--format', '{{.State.Status}}', name])
  return ['running', 'stopping'].includes(r.stdout.trim())
}

/** PID 1 inside the container: its command line and real uid. */
async function pid1(podman: Podman, name: string): Promise<{ argv: string[]; uid: number }> {
  const cmdline = await podman.must(['exec', name, 'cat', '/proc/1/cmdline'])
  const status = await podman.must(['exec', name, 'cat', '/proc/1/status'])
  const uid = /^Uid:\s+(\d+)/m.exec(status)?.[1]
  return { argv: cmdline.split('\0').filter((a) => a !== ''), uid: uid === undefined ? NaN : Number(uid) }
}

/** PID 1 is node running the entrypoint, as a non-root uid; `podman healthcheck run` passes. */
async function processChecks(t: Test, ctx: CheckContext, name: string, image: ImageUnderTest): Promise<void> {
  const p = await pid1(ctx.podman, name)
  t.same(p.argv, ['node', image.main], 'PID 1 is node itself (exec-form CMD, the entrypoint exec’d it)')
  t.ok(p.uid > 0, `PID 1 runs as uid ${p.uid}, not root`)
  const hc = await ctx.podman.run(['healthcheck', 'run', name])
  t.equal(hc.code, 0, `podman healthcheck run passes${hc.code === 0 ? '' : `: ${hc.stdout}${hc.stderr}`}`)
}

/** `podman stop` as documented (the container's --stop-timeout); resolves with its exit code and the container's. */
async function stop(ctx: CheckContext, name: string): Promise<{ stopCode: number; exitCode: number; stderr: string }> {
  const r = await ctx.podman.run(['stop', name])
  return { stopCode: r.code, exitCode: await ctx.podman.exitCode(name), stderr: r.stderr }
}

/** The JSON log lines of a container. */
async function logLines(podman: Podman, name: string): Promise<Array<Record<string, unknown>>> {
  const r = await podman.run(['logs', name])
  return `${r.stdout}\n${r.stderr}`.split('\n').map(parseJson).filter(isRecord)
}

/** The upstream's account of a request, from the body it answered with. */
function parseSeen(body: string): { url: unknown; prefix: unknown } {
  const v = parseJson(body)
  if (!isRecord(v) || !isRecord(v.headers)) return { url: undefined, prefix: undefined }
  return { url: v.url, prefix: v.headers['x-forwarded-prefix'] }
}

/** Run every check; containers started are listed in `ctx.containers`. */
export async function runChecks(t: Test, ctx: CheckContext): Promise<void> {
  const lock = lockPackages(readFileSync(join(ctx.root, 'package-lock.json'), 'utf8'))
  for (const image of [ctx.router, ctx.mediaNode]) await t.test(`${image.dockerfile}: image`, (t) => imageChecks(t, ctx, image, lock))

  const ports = new Set<number>()
  for (let i = 0; i < 4; i++) ports.add(await freePort(ports))
  const [nodePort = 0, nodeAdminPort = 0, routerPort = 0, routerAdminPort = 0] = ports
  const upstream = await startEchoUpstream()
  const dir = mkdtempSync(join(tmpdir(), 'images-test-'))
  t.teardown(() => {
    upstream.server.close()
    rmSync(dir, { recursive: true, force: true })
  })
  const node = 'edge-router-images-test-media-node'
  const router = 'edge-router-images-test-router'
  const nodeUrl = `http://127.0.0.1:${nodePort}`
  const routerUrl = `http://127.0.0.1:${routerPort}`

  await t.test(`${ctx.mediaNode.dockerfile}: running container`, async (t) => {
    await start(ctx, node, ctx.mediaNode, { HOST: '127.0.0.1', PORT: String(nodePort), ADMIN_PORT: String(nodeAdminPort), NODE_ID: 'test-node', CLOUDMAP_REGISTER: 'false' })
    const listening = await waitForLog(ctx.podman, node, 'media node listening', 60_000)
    t.equal(listening.port, nodePort, `the media node listens on ${nodePort}`)
    const health = await get(`${nodeUrl}/health`)
    t.equal(health.status, 200, 'GET /health 200')
    t.match(health.body, /"ok"/)
    const ws = await openWebSocket(`ws://127.0.0.1:${nodePort}/ws/direct?echo=1`)
    t.equal(await echo(ws, 'hello node'), 'hello node', 'WebSocket echo (ws client, ?echo=1)')
    ws.close()
    await processChecks(t, ctx, node, ctx.mediaNode)
  })

  await t.test(`${ctx.router.dockerfile}: running container`, async (t) => {
    const staticFile = join(dir, 'static.json')
    const services = {
      media: [{ id: 'test-node', host: '127.0.0.1', port: nodePort }],
      echo: [{ id: 'echo-1', host: '127.0.0.1', port: upstream.port }],
    }
    writeFileSync(staticFile, JSON.stringify({ services }), { mode: 0o644 })
    await start(
      ctx, router, ctx.router,
      { HOST: '127.0.0.1', ADMIN_HOST: '127.0.0.1', PORT: String(routerPort), ADMIN_PORT: String(routerAdminPort), DISCOVERY_MODE: 'static', STATIC_DISCOVERY_FILE: '/etc/edge-router/static.json' },
      ['--volume', `${staticFile}:/etc/edge-router/static.json:ro`],
    )
    const listening = await waitForLog(ctx.podman, router, 'router listening', 60_000)
    t.match(listening, { port: routerPort, adminPort: routerAdminPort, discovery: 'static' }, `the router listens on ${routerPort} (admin ${routerAdminPort}), static discovery`)
    t.equal((await get(`${routerUrl}/health`)).status, 200, 'GET /health 200')

    const proxied = await get(`${routerUrl}/services/echo/hello?x=1`)
    t.equal(proxied.status, 200, '/services/echo/hello proxied (static discovery) to a real upstream')
    const seen = parseSeen(proxied.body)
    t.equal(seen.url, '/hello?x=1', 'the upstream got the path without the prefix')
    t.equal(seen.prefix, '/services/echo', 'and X-Forwarded-Prefix')

    const nodeHealth = await get(`${routerUrl}/media/test-node/health`)
    t.equal(nodeHealth.status, 200, '/media/test-node/health proxied to the media node container')
    const ws = await openWebSocket(`ws://127.0.0.1:${routerPort}/media/test-node/ws/via-router?echo=1`)
    t.equal(await echo(ws, 'hello via router'), 'hello via router', 'WebSocket echo through the router to the media node')
    ws.close()
    await processChecks(t, ctx, router, ctx.router)
  })

  await t.test(`${ctx.router.dockerfile}: podman stop drains and exits 0 (--stop-timeout ${ctx.router.stopTimeoutSeconds}, as documented)`, async (t) => {
    const ws = await openWebSocket(`ws://127.0.0.1:${routerPort}/media/test-node/ws/drain?echo=1`)
    t.teardown(() => ws.terminate())
    const stopped = stop(ctx, router)
    await waitForStatus(`${routerUrl}/health`, 503, () => running(ctx.podman, router), 30_000)
    t.pass('GET /health 503 once draining')
    t.equal(await echo(ws, 'still relaying'), 'still relaying', 'an open WebSocket keeps relaying during the drain delay')
    t.equal((await get(`${routerUrl}/services/echo/late`)).status, 200, 'new requests are still proxied during the drain delay')
    ws.close()
    const result = await stopped
    t.equal(result.stopCode, 0, `podman stop exits 0${result.stopCode === 0 ? '' : `: ${result.stderr}`}`)
    t.equal(result.exitCode, 0, 'the router exited 0 (not 137: no SIGKILL)')
    const msgs = (await logLines(ctx.podman, router)).map((l) => l.msg)
    const order = ['draining: /health is 503', 'draining: stopped accepting', 'drained']
    t.same(msgs.filter((m) => typeof m === 'string' && order.includes(m)), order, 'drain sequence in the log: unready, delay, stopped accepting, drained')
  })

  await t.test(`${ctx.mediaNode.dockerfile}: podman stop exits 0 (--stop-timeout ${ctx.mediaNode.stopTimeoutSeconds}, as documented)`, async (t) => {
    const result = await stop(ctx, node)
    t.equal(result.stopCode, 0, 'podman stop exits 0')
    t.equal(result.exitCode, 0, 'the media node exited 0')
  })
}
