// Dockerfile.node's runtime command, run for real: the runtime stage laid
// out from its COPY lines over the build output, started with the image's
// exec-form CMD and ENV (no Cloud Map registration), must answer GET /health
// 200 and exit cleanly on SIGTERM.
import t from 'tap'
import { freePort, runtimeCommand, spawnCommand, stageRuntime, waitForStatus200 } from './fixtures/image.js'

t.test('media node: runtime CMD serves /health and stops on SIGTERM', async (t) => {
  // GIVEN the runtime stage's files
  const stage = stageRuntime('Dockerfile.node')
  t.teardown(stage.dispose)
  const port = await freePort()
  const { argv, env } = runtimeCommand('Dockerfile.node')
  t.same(env, { NODE_ENV: 'production', PORT: '8080', CLOUDMAP_SERVICE: 'media' }, 'the image ENV (PORT overridden below)')

  // WHEN the CMD runs with the image ENV, a test port and no registration
  const running = spawnCommand(argv, stage.dir, { ...env, PORT: String(port), NODE_ID: 'test-node', CLOUDMAP_REGISTER: 'false' })
  t.teardown(() => {
    if (running.child.exitCode === null) running.child.kill('SIGKILL')
  })

  // THEN /health answers 200 for this node, and SIGTERM ends it with exit code 0
  const health = await waitForStatus200(`http://127.0.0.1:${port}/health`, running)
  t.match(health.body, /test-node/)
  running.child.kill('SIGTERM')
  const code = await Promise.race([running.exited, new Promise<string>((r) => setTimeout(() => r('timeout'), 15_000))])
  t.equal(code, 0, `exit code after SIGTERM\n${running.output()}`)
})
