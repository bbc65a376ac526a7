// Dockerfile.router's runtime command, run for real: the runtime stage laid
// out from its COPY lines over the build output, started with the image's
// exec-form CMD and ENV (plus static discovery), must answer GET /health 200
// and exit cleanly on SIGTERM.
import t from 'tap'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { freePort, runtimeCommand, spawnCommand, stageRuntime, waitForStatus200 } from './fixtures/image.js'

t.test('router: runtime CMD serves /health and stops on SIGTERM', async (t) => {
  // GIVEN the runtime stage's files and a static discovery table
  const stage = stageRuntime('Dockerfile.router')
  t.teardown(stage.dispose)
  const staticFile = join(stage.dir, 'static-discovery.json')
  writeFileSync(staticFile, JSON.stringify({ services: {} }))
  const [port, adminPort] = [await freePort(), await freePort()]
  const { argv, env } = runtimeCommand('Dockerfile.router')
  t.same(env, { NODE_ENV: 'production', PORT: '8080', ADMIN_PORT: '9090' }, 'the image ENV (ports overridden below: 8080 may be taken here)')

  // WHEN the CMD runs with the image ENV plus test ports and static discovery
  const running = spawnCommand(argv, stage.dir, {
    ...env,
    PORT: String(port),
    ADMIN_PORT: String(adminPort),
    DISCOVERY_MODE: 'static',
    STATIC_DISCOVERY_FILE: staticFile,
    // Short drain so SIGTERM ends the test quickly.
    DRAIN_DELAY_MS: '0',
    DRAIN_HTTP_TIMEOUT_MS: '1000',
    DRAIN_TIMEOUT_MS: '1000',
  })
  t.teardown(() => {
    if (running.child.exitCode === null) running.child.kill('SIGKILL')
  })

  // THEN /health answers 200, and SIGTERM ends the process with exit code 0
  const health = await waitForStatus200(`http://127.0.0.1:${port}/health`, running)
  t.equal(health.status, 200)
  running.child.kill('SIGTERM')
  const code = await Promise.race([running.exited, new Promise<string>((r) => setTimeout(() => r('timeout'), 15_000))])
  t.equal(code, 0, `exit code after SIGTERM\n${running.output()}`)
})
