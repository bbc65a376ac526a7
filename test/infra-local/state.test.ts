// The in-memory model directly (no sockets): revision rules, health, retries
// by CreatorRequestId, operation retention, snapshot round trip, DNS view.

import t from 'tap'
import { Throttle } from '../../infra/local/src/emulator/throttle.js'
import { AwsError } from '../../infra/local/src/emulator/aws-errors.js'
import { EmulatorState, MAX_OPERATIONS } from '../../infra/local/src/emulator/state.js'
import { parseSnapshot } from '../../infra/local/src/emulator/state-file.js'

function fixture(): { state: EmulatorState; serviceId: string } {
  let now = 1_700_000_000_000
  const state = new EmulatorState(() => now++)
  const opId = state.createNamespace({ name: 'svc.local', type: 'DNS_PRIVATE', vpc: 'vpc-1' })
  const nsId = state.getOperation(opId).targets.NAMESPACE ?? ''
  const service = state.createService({
    name: 'Media',
    namespaceId: nsId,
    dnsConfig: { routingPolicy: 'MULTIVALUE', records: [{ type: 'SRV', ttl: 5 }] },
    healthCheckCustomConfig: {},
    httpOnly: false,
  })
  return { state, serviceId: service.id }
}

const attrs = (ip: string): Record<string, string> => ({ AWS_INSTANCE_IPV4: ip, AWS_INSTANCE_PORT: '80' })

t.test('revision: register and deregister bump it, health and retries do not', async (t) => {
  const { state, serviceId } = fixture()
  t.equal(state.revision('svc.local', 'media'), 0, 'names match case-insensitively in DNS namespaces')
  const op = state.registerInstance({ serviceId, instanceId: 'a', creatorRequestId: 'tok', attributes: attrs('10.0.0.1') })
  t.equal(state.revision('svc.local', 'media'), 1)
  t.equal(state.registerInstance({ serviceId, instanceId: 'a', creatorRequestId: 'tok', attributes: attrs('10.0.0.1') }), op, 'retry answers the same operation')
  t.equal(state.revision('svc.local', 'media'), 1, 'a retry is not a new registration')
  state.setCustomHealth(serviceId, 'a', 'UNHEALTHY')
  t.equal(state.revision('svc.local', 'media'), 1)
  t.equal(state.getInstance(serviceId, 'a').health, 'UNHEALTHY')
  state.registerInstance({ serviceId, instanceId: 'a', attributes: attrs('10.0.0.2') })
  t.equal(state.revision('svc.local', 'media'), 2)
  t.equal(state.getInstance(serviceId, 'a').health, 'HEALTHY', 're-registration starts a new health check')
  state.deregisterInstance(serviceId, 'a')
  t.equal(state.revision('svc.local', 'media'), 3)
  t.throws(() => state.deregisterInstance(serviceId, 'a'), { code: 'InstanceNotFound' })
})

t.test('every change notifies listeners; snapshots round-trip through validation', async (t) => {
  const { state, serviceId } = fixture()
  let changes = 0
  state.onChange(() => changes++)
  state.registerInstance({ serviceId, instanceId: 'a', attributes: attrs('10.0.0.1') })
  state.setCustomHealth(serviceId, 'a', 'UNHEALTHY')
  state.setCustomHealth(serviceId, 'a', 'UNHEALTHY')
  t.equal(changes, 2, 'an unchanged health status is not a change')

  const copy = new EmulatorState()
  copy.load(parseSnapshot(JSON.parse(JSON.stringify(state.toSnapshot()))))
  t.same(copy.toSnapshot(), state.toSnapshot())
  t.same(copy.dnsZones(), state.dnsZones())
  t.same(copy.dnsZones()[0]?.services[0]?.instances, [{ id: 'a', ipv4: '10.0.0.1', ipv6: undefined, port: 80, healthy: false }])
})

t.test('old operations are forgotten beyond MAX_OPERATIONS', async (t) => {
  const { state, serviceId } = fixture()
  const first = state.registerInstance({ serviceId, instanceId: 'i-0', creatorRequestId: 'tok-0', attributes: attrs('10.0.0.1') })
  for (let i = 1; i <= MAX_OPERATIONS; i++) state.registerInstance({ serviceId, instanceId: `i-${i}`, attributes: attrs('10.0.0.1') })
  t.throws(() => state.getOperation(first), { code: 'OperationNotFound' })
  t.equal(state.toSnapshot().operations.length, MAX_OPERATIONS)
  t.equal(state.listInstances(serviceId).length, MAX_OPERATIONS + 1, 'instances are not affected')
})

t.test('errors are AwsErrors with the model status', async (t) => {
  const { state, serviceId } = fixture()
  const cases: Array<[() => unknown, string, number]> = [
    [() => state.getNamespace('ns-x'), 'NamespaceNotFound', 404],
    [() => state.getService('srv-x'), 'ServiceNotFound', 404],
    [() => state.getInstance(serviceId, 'nope'), 'InstanceNotFound', 404],
    [() => state.discover({ namespaceName: 'svc.local', serviceName: 'nope' }), 'ServiceNotFound', 404],
    [() => state.registerInstance({ serviceId, instanceId: 'x', attributes: { AWS_INSTANCE_PORT: '80' } }), 'InvalidInput', 400],
    [() => state.createNamespace({ name: 'SVC.LOCAL', type: 'DNS_PRIVATE' }), 'NamespaceAlreadyExists', 400],
  ]
  for (const [call, code, status] of cases) {
    try {
      call()
      t.fail(`${code}: no error`)
    } catch (err) {
      t.ok(err instanceof AwsError, code)
      t.match(err, { code, statusCode: status })
    }
  }
})

t.test('throttle share is exact over any number of calls', async (t) => {
  const throttle = new Throttle()
  for (const share of [0, 0.1, 0.25, 0.29, 0.5, 0.7, 1]) {
    throttle.set(share)
    let hits = 0
    for (let i = 0; i < 100; i++) if (throttle.next()) hits++
    t.equal(hits, Math.round(100 * share), `share ${share}`)
  }
})
