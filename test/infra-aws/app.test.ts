// The CDK app: one stack per environment chosen by context, synthesized
// offline (no lookups, no missing context) into the requested folder.
import t from 'tap'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApp, readCdkJsonContext, stackName } from '../../infra/aws/app.js'
import { TEST_CONTEXT } from './fixtures/stack.js'

t.test('cdk.json context alone is enough for every environment (what `npm run synth` uses)', async (t) => {
  const ctx = readCdkJsonContext()
  t.equal(ctx.env, 'dev')
  const outdir = mkdtempSync(join(tmpdir(), 'cdk-out-'))
  t.teardown(() => rmSync(outdir, { recursive: true, force: true }))
  // WHEN every environment is synthesized offline
  const { app, stacks } = createApp({ context: { ...ctx, env: 'all' }, outdir })
  const assembly = app.synth()
  // THEN one template per environment, and nothing was looked up
  t.same(stacks.map((s) => s.stackName), ['EdgeRouter-dev', 'EdgeRouter-stg', 'EdgeRouter-prod'])
  for (const s of stacks) t.ok(existsSync(join(outdir, s.templateFile)))
  const manifest: unknown = JSON.parse(readFileSync(join(assembly.directory, 'manifest.json'), 'utf8'))
  t.notOk(typeof manifest === 'object' && manifest !== null && 'missing' in manifest, 'no missing context (no lookups)')
  const prod = stacks.find((s) => s.stackName === 'EdgeRouter-prod')
  t.equal(prod?.terminationProtection, true)
})

t.test('env context selects a single stack', async (t) => {
  const { stacks } = createApp({ context: { ...TEST_CONTEXT, env: 'prod' }, outdir: mkdtempSync(join(tmpdir(), 'cdk-out-')) })
  t.same(stacks.map((s) => s.stackName), [stackName('prod')])
})

t.test('unknown env is refused with the key named', async (t) => {
  t.throws(() => createApp({ context: { ...TEST_CONTEXT, env: 'qa' }, outdir: tmpdir() }), /context "env"/)
})
