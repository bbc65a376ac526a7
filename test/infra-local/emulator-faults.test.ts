// The emulator's fault switches, programmatic and over HTTP (/emulator/faults):
// API hang (received, never answered), API slow (answered after a fixed
// delay), throttle of any operation, DNS drop and DNS SERVFAIL. Waits are on
// events (the emulator has the call, the client's own timeout fired), never
// on how long something took.

import t from 'tap'
import { Resolver } from 'node:dns/promises'
import { ListNamespacesCommand, RegisterInstanceCommand, RequestLimitExceeded } from '@aws-sdk/client-servicediscovery'
import { NodeHttpHandler } from '@smithy/node-http-handler'
import { emulatorClient, ensurePrivateDnsNamespace, ensureService, registerInstance } from '../../infra/local/src/emulator/sdk-setup.js'
import { rejectsWith, setup } from './helpers.js'
import { eventually } from '../fixtures/router.js'

async function faultsCall(url: string, method: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(url, { method, ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}) })
  return { status: res.status, json: await res.json() }
}

t.test('HTTP endpoint: GET shows, PUT patches, DELETE clears; bad input is 400 and changes nothing', async (t) => {
  const { emu } = await setup(t)
  t.same((await faultsCall(emu.faultsUrl, 'GET')).json, { api: { mode: 'normal' }, throttle: { share: 0 }, dns: 'answer' })
  const put = await faultsCall(emu.faultsUrl, 'PUT', { api: { mode: 'slow', delayMs: 250, operations: ['DiscoverInstances'] }, dns: 'servfail' })
  t.equal(put.status, 200)
  t.same(put.json, { api: { mode: 'slow', delayMs: 250, operations: ['DiscoverInstances'] }, throttle: { share: 0 }, dns: 'servfail' })
  t.same(emu.faults(), put.json, 'the programmatic view is the same state')
  t.same((await faultsCall(emu.faultsUrl, 'PUT', { throttle: 0.5 })).json, { api: { mode: 'slow', delayMs: 250, operations: ['DiscoverInstances'] }, throttle: { share: 0.5 }, dns: 'servfail' }, 'a patch keeps the other switches')
  for (const bad of [{ api: { mode: 'sometimes' } }, { api: { mode: 'slow' } }, { throttle: 2 }, { dns: 'maybe' }, { disk: 'full' }, { api: { mode: 'hang', operations: [] } }, [1]]) {
    const r = await faultsCall(emu.faultsUrl, 'PUT', bad)
    t.equal(r.status, 400, JSON.stringify(bad))
    t.match(r.json, { code: 'InvalidInput', error: String })
  }
  const notJson = await fetch(emu.faultsUrl, { method: 'PUT', body: '{nope' })
  t.equal(notJson.status, 400)
  await notJson.body?.cancel()
  t.equal((await faultsCall(emu.faultsUrl, 'POST', {})).status, 405)
  t.equal(emu.faults().dns, 'servfail', 'rejected patches changed nothing')
  t.same((await faultsCall(emu.faultsUrl, 'DELETE')).json, { api: { mode: 'normal' }, throttle: { share: 0 }, dns: 'answer' })
})

t.test('API hang: the call is received and never answered; the SDK gives up with its own requestTimeout', async (t) => {
  const { emu } = await setup(t)
  const client = emulatorClient(emu.apiEndpoint, {
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ connectionTimeout: 30_000, requestTimeout: 400, throwOnRequestTimeout: true }),
  })
  t.teardown(() => client.destroy())
  await faultsCall(emu.faultsUrl, 'PUT', { api: { mode: 'hang' } })
  let settled = false
  const call = client.send(new ListNamespacesCommand({})).finally(() => (settled = true))
  call.catch(() => undefined)
  await eventually(() => emu.stats.apiHeld() === 1)
  t.notOk(settled, 'the emulator holds the call and has not answered it')
  t.equal((await faultsCall(emu.faultsUrl, 'GET')).status, 200, 'the fault endpoint still answers')
  const err = await call.then(
    () => undefined,
    (e: unknown) => e,
  )
  t.match(err, { name: 'TimeoutError' }, 'the client timed out')
  await eventually(() => emu.stats.apiHeld() === 0)
  t.pass('the held call is released when the client goes away')
  emu.clearFaults()
  await client.send(new ListNamespacesCommand({}))
  t.pass('answers again once cleared')
})

t.test('API hang limited to some operations leaves the others answering', async (t) => {
  const { emu, client } = await setup(t)
  emu.setApiFault({ mode: 'hang', operations: ['DiscoverInstances'] })
  const listed = await client.send(new ListNamespacesCommand({}))
  t.same(listed.Namespaces, [])
})

t.test('API slow: answered, and no sooner than the delay', async (t) => {
  const { emu, client } = await setup(t)
  emu.setApiFault({ mode: 'slow', delayMs: 300 })
  let answered = false
  const started = performance.now()
  const call = client.send(new ListNamespacesCommand({})).finally(() => (answered = true))
  await eventually(() => emu.stats.apiHeld() === 1)
  t.notOk(answered, 'held while slow')
  await call
  // A lower bound only: a busy machine makes it later, never sooner.
  t.ok(performance.now() - started >= 290, 'not answered before the delay')
  t.equal(emu.stats.apiHeld(), 0)
})

t.test('throttle can cover any operation, e.g. RegisterInstance', async (t) => {
  const { emu, client: setupClient } = await setup(t)
  const nsId = await ensurePrivateDnsNamespace(setupClient, 'svc.local')
  const serviceId = await ensureService(setupClient, { namespaceId: nsId, name: 'media', records: [{ type: 'A', ttl: 10 }] })
  const client = emulatorClient(emu.apiEndpoint, { maxAttempts: 1 })
  t.teardown(() => client.destroy())
  emu.setThrottle(1, ['RegisterInstance'])
  await rejectsWith(t, client.send(new RegisterInstanceCommand({ ServiceId: serviceId, InstanceId: 'a', Attributes: { AWS_INSTANCE_IPV4: '10.0.0.1' } })), RequestLimitExceeded, 'RegisterInstance throttled')
  emu.setThrottle(0)
  await registerInstance(client, { serviceId, instanceId: 'a', ipv4: '10.0.0.1', port: 1 })
  t.pass('registers once the throttle is off')
})

t.test('DNS SERVFAIL and drop', async (t) => {
  const { emu, client } = await setup(t)
  const nsId = await ensurePrivateDnsNamespace(client, 'svc.local')
  const serviceId = await ensureService(client, { namespaceId: nsId, name: 'media', records: [{ type: 'A', ttl: 10 }] })
  await registerInstance(client, { serviceId, instanceId: 'a', ipv4: '10.0.0.1', port: 1 })
  // A patient resolver for answers (a busy machine may be slow), a quick one for the drop.
  const resolver = new Resolver({ timeout: 10_000, tries: 1 })
  const impatient = new Resolver({ timeout: 300, tries: 1 })
  for (const r of [resolver, impatient]) r.setServers([`${emu.dns.host}:${emu.dns.port}`])
  t.same(await resolver.resolve4('media.svc.local'), ['10.0.0.1'])
  emu.setDnsMode('servfail')
  await t.rejects(resolver.resolve4('media.svc.local'), { code: 'ESERVFAIL' }, 'SERVFAIL answer')
  emu.setDnsMode('drop')
  const before = emu.stats.dnsQueries()
  await t.rejects(impatient.resolve4('media.svc.local'), { code: 'ETIMEOUT' }, 'no answer: the resolver times out')
  t.ok(emu.stats.dnsQueries() > before, 'the dropped query did reach the emulator')
  await faultsCall(emu.faultsUrl, 'DELETE')
  t.same(await resolver.resolve4('media.svc.local'), ['10.0.0.1'], 'answers again')
})
