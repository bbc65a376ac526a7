// Context parsing: typed config from untyped context, defaults, overrides,
// and errors that name the offending context key.
import t from 'tap'
import { ContextError, loadEnvironmentConfig, parseEnvironmentName } from '../../infra/aws/config.js'
import { TEST_CONTEXT, contextOf } from './fixtures/stack.js'

const dev = (extra: Record<string, unknown> = {}) => loadEnvironmentConfig(contextOf({ ...TEST_CONTEXT, ...extra }), 'dev')

t.test('defaults and per-environment values', async (t) => {
  const c = dev()
  t.equal(c.name, 'dev')
  t.equal(c.namespaceName, 'dev.edge.internal')
  t.equal(c.idleTimeoutSeconds, 4000)
  t.equal(c.routerMinTasks, 2)
  t.equal(c.routerMaxTasks, 20)
  t.equal(c.account, undefined, 'environment-agnostic unless account+region given')
  t.equal(c.deployments.length, 2)
  t.same(c.deployments[1], { id: 'checkout-v2', image: 'registry.example/checkout:test', containerPort: 8080, desiredCount: 2 })
  const prod = loadEnvironmentConfig(contextOf(TEST_CONTEXT), 'prod')
  t.equal(prod.natGateways, 2)
  t.ok(prod.wafWebAclArn?.startsWith('arn:aws:wafv2:'))
})

t.test('top-level keys override the environment section; CLI strings become numbers', async (t) => {
  const c = dev({ idleTimeoutSeconds: '3600', certificateArn: 'arn:aws:acm:us-east-1:222222222222:certificate/abc-123' })
  t.equal(c.idleTimeoutSeconds, 3600)
  t.equal(c.certificateArn, 'arn:aws:acm:us-east-1:222222222222:certificate/abc-123')
})

t.test('routerDeploymentControl: off by default; true or "true" (CLI) turns it on; anything else names the key', async (t) => {
  t.equal(dev().routerDeploymentControl, false)
  t.equal(dev({ routerDeploymentControl: true }).routerDeploymentControl, true)
  t.equal(dev({ routerDeploymentControl: 'true' }).routerDeploymentControl, true)
  t.equal(dev({ routerDeploymentControl: 'false' }).routerDeploymentControl, false)
  t.throws(() => dev({ routerDeploymentControl: 'yes' }), /context "routerDeploymentControl": must be true or false; got "yes"/)
})

t.test('fixed account and region come with AZ names, so no lookup is needed', async (t) => {
  const c = dev({ account: '123456789012', region: 'eu-central-1' })
  t.same(c.availabilityZones, ['eu-central-1a', 'eu-central-1b'])
  t.throws(() => dev({ account: '123456789012' }), /"environments\.dev\.region"|"region"|"account"/)
})

const cases: Array<[string, Record<string, unknown>, RegExp]> = [
  ['missing certificate', { environments: { dev: { routerImage: 'a', mediaNodeImage: 'b' } } }, /context "environments\.dev\.certificateArn": is required/],
  ['bad certificate ARN', { certificateArn: 'not-an-arn' }, /context "certificateArn": must be an ACM certificate ARN/],
  ['idle timeout above 4000', { idleTimeoutSeconds: 5000 }, /context "idleTimeoutSeconds": must be an integer in \[3600, 4000\]/],
  ['idle timeout too short for WebSockets', { idleTimeoutSeconds: 60 }, /idleTimeoutSeconds/],
  ['router min below 2', { routerMinTasks: 1 }, /context "routerMinTasks"/],
  ['drain longer than the stop timeout allows', { drainDelaySeconds: 30, drainTimeoutSeconds: 100 }, /drainTimeoutSeconds.*120 s/],
  ['drain with its in-flight HTTP wait longer than the stop timeout allows (25 + 30 + 60 + 10 > 120)', { drainDelaySeconds: 25, drainTimeoutSeconds: 60 }, /drainTimeoutSeconds.*in-flight HTTP.*120 s/],
  ['bad deployment id', { deployments: [{ id: 'Bad Id', image: 'x' }] }, /context "deployments\[0\]\.id"/],
  ['reserved deployment id', { deployments: [{ id: 'media', image: 'x' }] }, /reserved/],
  ['duplicate deployment id', { deployments: [{ id: 'a', image: 'x' }, { id: 'a', image: 'y' }] }, /deployments\[1\]\.id.*duplicate/],
  ['bad WAF ARN', { wafWebAclArn: 'arn:aws:wafv2:eu-west-1:111111111111:global/webacl/x/y' }, /context "wafWebAclArn"/],
  ['bad retention', { logRetentionDays: 10 }, /context "logRetentionDays"/],
  ['environments not an object', { environments: [] }, /context "environments"/],
]
for (const [name, extra, message] of cases) {
  t.test(`refused: ${name}`, async (t) => {
    let caught: unknown
    try {
      dev(extra)
    } catch (err) {
      caught = err
    }
    t.ok(caught instanceof ContextError, 'throws a ContextError')
    t.match(caught instanceof Error ? caught.message : '', message)
  })
}

t.test('env must be dev, stg or prod', async (t) => {
  t.equal(parseEnvironmentName('stg'), 'stg')
  t.throws(() => parseEnvironmentName('qa'), /context "env": must be one of dev, stg, prod/)
  t.throws(() => parseEnvironmentName(undefined), /context "env"/)
})
