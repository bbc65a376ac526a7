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
  // WHEN all environments are built from cdk.json's context
  const all = createApp({ context: { ...ctx, env: 'all' }, outdir: tmpdir() })
  // THEN one stack per environment; prod is termination-protected
  t.same(all.stacks.map((s) => s.stackName), ['EdgeRouter-dev', 'EdgeRouter-stg', 'EdgeRouter-prod'])
  t.equal(all.stacks.find((s) => s.stackName === 'EdgeRouter-prod')?.terminationProtection, true)
  t.equal(all.stacks.find((s) => s.stackName === 'EdgeRouter-dev')?.terminationProtection, false)
})

t.test('synth runs offline: a template is written and nothing is looked up', async (t) => {
  const outdir = mkdtempSync(join(tmpdir(), 'cdk-out-'))
  t.teardown(() => rmSync(outdir, { recursive: true, force: true }))
  // WHEN prod (WAF, two NATs) is synthesized from cdk.json's context
  const { app, stacks } = createApp({ context: { ...readCdkJsonContext(), env: 'prod' }, outdir })
  const assembly = app.synth()
  // THEN its template is in the outdir and the manifest lists no missing context
  t.same(stacks.map((s) => s.stackName), ['EdgeRouter-prod'])
  for (const s of stacks) t.ok(existsSync(join(outdir, s.templateFile)))
  const manifest: unknown = JSON.parse(readFileSync(join(assembly.directory, 'manifest.json'), 'utf8'))
  t.ok(typeof manifest === 'object' && manifest !== null)
  t.notOk(typeof manifest === 'object' && manifest !== null && 'missing' in manifest, 'no missing context (no lookups)')
})

t.test('env context selects a single stack', async (t) => {
  const { stacks } = createApp({ context: { ...TEST_CONTEXT, env: 'prod' }, outdir: mkdtempSync(join(tmpdir(), 'cdk-out-')) })
  t.same(stacks.map((s) => s.stackName), [stackName('prod')])
})

t.test('unknown env is refused with the key named', async (t) => {
  t.throws(() => createApp({ context: { ...TEST_CONTEXT, env: 'qa' }, outdir: tmpdir() }), /context "env"/)
})
