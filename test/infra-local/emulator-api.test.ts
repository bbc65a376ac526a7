// The emulator's Cloud Map API through the real AWS SDK (and raw HTTP for the
// protocol edge cases): every operation, every error as the SDK's typed
// exception, DiscoverInstances filters, InstancesRevision, throttling and the
// per-operation call counters.

import t from 'tap'
import {
  CreateHttpNamespaceCommand,
  CreatePrivateDnsNamespaceCommand,
  CreateServiceCommand,
  CustomHealthNotFound,
  DeregisterInstanceCommand,
  DiscoverInstancesCommand,
  DiscoverInstancesRevisionCommand,
  DuplicateRequest,
  GetInstanceCommand,
  GetNamespaceCommand,
  GetOperationCommand,
  GetServiceCommand,
  InstanceNotFound,
  InvalidInput,
  ListInstancesCommand,
  ListNamespacesCommand,
  ListServicesCommand,
  NamespaceAlreadyExists,
  NamespaceNotFound,
  OperationNotFound,
  RegisterInstanceCommand,
  RequestLimitExceeded,
  ServiceAlreadyExists,
  ServiceNotFound,
  UpdateInstanceCustomHealthStatusCommand,
} from '@aws-sdk/client-servicediscovery'
import { startEmulator } from '../../infra/local/src/emulator/index.js'
import { emulatorClient, ensurePrivateDnsNamespace, ensureService, registerInstance } from '../../infra/local/src/emulator/sdk-setup.js'
import { rejectsWith, setup } from './helpers.js'

t.test('namespaces: create, get, list, operation, duplicates', async (t) => {
  const { client } = await setup(t)
  const created = await client.send(new CreatePrivateDnsNamespaceCommand({ Name: 'svc.local', Vpc: 'vpc-1', CreatorRequestId: 'req-1' }))
  t.type(created.OperationId, 'string')
  const op = await client.send(new GetOperationCommand({ OperationId: created.OperationId }))
  t.equal(op.Operation?.Status, 'SUCCESS')
  t.equal(op.Operation?.Type, 'CREATE_NAMESPACE')
  t.ok(op.Operation?.CreateDate instanceof Date, 'timestamps parse as dates')
  const nsId = op.Operation?.Targets?.NAMESPACE
  t.match(nsId, /^ns-[a-z0-9]{16}$/)

  const got = await client.send(new GetNamespaceCommand({ Id: nsId }))
  t.equal(got.Namespace?.Name, 'svc.local')
  t.equal(got.Namespace?.Type, 'DNS_PRIVATE')
  t.equal(got.Namespace?.Properties?.HttpProperties?.HttpName, 'svc.local')
  t.equal(got.Namespace?.Properties?.DnsProperties?.SOA?.TTL, 15)
  t.match(got.Namespace?.Properties?.DnsProperties?.HostedZoneId, /^Z/)

  // Retrying with the same CreatorRequestId answers the same operation.
  const retried = await client.send(new CreatePrivateDnsNamespaceCommand({ Name: 'svc.local', Vpc: 'vpc-1', CreatorRequestId: 'req-1' }))
  t.equal(retried.OperationId, created.OperationId)

  const exists = await rejectsWith(t, client.send(new CreatePrivateDnsNamespaceCommand({ Name: 'SVC.local', Vpc: 'vpc-1' })), NamespaceAlreadyExists, 'same DNS name')
  t.equal(exists?.NamespaceId, nsId)
  t.equal(exists?.$metadata.httpStatusCode, 400)
  const dup = await rejectsWith(t, client.send(new CreatePrivateDnsNamespaceCommand({ Name: 'other.local', Vpc: 'vpc-1', CreatorRequestId: 'req-1' })), DuplicateRequest, 'reused CreatorRequestId')
  t.equal(dup?.DuplicateOperationId, created.OperationId)
  t.equal(dup?.$metadata.httpStatusCode, 409)

  await client.send(new CreateHttpNamespaceCommand({ Name: 'api-only' }))
  const all = await client.send(new ListNamespacesCommand({}))
  t.same(all.Namespaces?.map((ns) => ns.Name).sort(), ['api-only', 'svc.local'])
  const http = await client.send(new ListNamespacesCommand({ Filters: [{ Name: 'TYPE', Values: ['HTTP'] }] }))
  t.same(http.Namespaces?.map((ns) => ns.Name), ['api-only'])
  const paged = await client.send(new ListNamespacesCommand({ MaxResults: 1 }))
  t.equal(paged.Namespaces?.length, 1)
  const rest = await client.send(new ListNamespacesCommand({ MaxResults: 1, NextToken: paged.NextToken }))
  t.equal(rest.Namespaces?.length, 1)
  t.equal(rest.NextToken, undefined)

  const missing = await rejectsWith(t, client.send(new GetNamespaceCommand({ Id: 'ns-doesnotexist0000' })), NamespaceNotFound, 'unknown namespace')
  t.equal(missing?.$metadata.httpStatusCode, 404)
  await rejectsWith(t, client.send(new GetOperationCommand({ OperationId: 'nope' })), OperationNotFound, 'unknown operation id')
  await rejectsWith(t, client.send(new CreatePrivateDnsNamespaceCommand({ Name: 'x.local', Vpc: undefined })), InvalidInput, 'missing Vpc')
})

t.test('services: create, get, list, errors', async (t) => {
  const { client } = await setup(t)
  const nsId = await ensurePrivateDnsNamespace(client, 'svc.local')
  const { Service } = await client.send(
    new CreateServiceCommand({
      Name: 'media',
      NamespaceId: nsId,
      CreatorRequestId: 'svc-req',
      DnsConfig: { RoutingPolicy: 'MULTIVALUE', DnsRecords: [{ Type: 'SRV', TTL: 10 }, { Type: 'A', TTL: 10 }] },
      HealthCheckCustomConfig: {},
    }),
  )
  t.match(Service?.Id, /^srv-[a-z0-9]{16}$/)
  t.equal(Service?.Type, 'DNS_HTTP')
  t.same(Service?.DnsConfig?.DnsRecords, [{ Type: 'SRV', TTL: 10 }, { Type: 'A', TTL: 10 }])
  t.equal(Service?.InstanceCount, 0)
  t.ok(Service?.CreateDate instanceof Date)

  const got = await client.send(new GetServiceCommand({ Id: Service?.Id }))
  t.equal(got.Service?.Name, 'media')
  t.equal(got.Service?.NamespaceId, nsId)
  t.same(got.Service?.HealthCheckCustomConfig, { FailureThreshold: 1 })

  const exists = await rejectsWith(t, client.send(new CreateServiceCommand({ Name: 'Media', NamespaceId: nsId, DnsConfig: { DnsRecords: [{ Type: 'A', TTL: 5 }] } })), ServiceAlreadyExists, 'same name, other case')
  t.equal(exists?.ServiceId, Service?.Id)
  // Same CreatorRequestId: the retry returns the service it created.
  const retried = await client.send(new CreateServiceCommand({ Name: 'media', NamespaceId: nsId, CreatorRequestId: 'svc-req', DnsConfig: { DnsRecords: [{ Type: 'A', TTL: 5 }] } }))
  t.equal(retried.Service?.Id, Service?.Id)

  await client.send(new CreateServiceCommand({ Name: 'api', NamespaceId: nsId, Type: 'HTTP' }))
  const listed = await client.send(new ListServicesCommand({ Filters: [{ Name: 'NAMESPACE_ID', Values: [nsId], Condition: 'EQ' }] }))
  t.same(listed.Services?.map((s) => s.Name).sort(), ['api', 'media'])
  const other = await client.send(new ListServicesCommand({ Filters: [{ Name: 'NAMESPACE_ID', Values: ['ns-other'] }] }))
  t.same(other.Services, [])

  await rejectsWith(t, client.send(new CreateServiceCommand({ Name: 'x', NamespaceId: 'ns-missing' })), NamespaceNotFound, 'unknown namespace')
  await rejectsWith(t, client.send(new GetServiceCommand({ Id: 'srv-missing' })), ServiceNotFound, 'unknown service')
  await rejectsWith(t, client.send(new CreateServiceCommand({ Name: 'bad name!', NamespaceId: nsId })), InvalidInput, 'invalid service name')
  await rejectsWith(t, client.send(new CreateServiceCommand({ Name: 'c', NamespaceId: nsId, DnsConfig: { DnsRecords: [{ Type: 'CNAME', TTL: 5 }, { Type: 'A', TTL: 5 }] } })), InvalidInput, 'CNAME with A')
  await rejectsWith(t, client.send(new CreateServiceCommand({ Name: 'h', NamespaceId: nsId, HealthCheckConfig: { Type: 'HTTP' } })), InvalidInput, 'Route 53 health check in a private namespace')
})

t.test('instances: register, get, list, deregister, health, errors', async (t) => {
  const { client } = await setup(t)
  const nsId = await ensurePrivateDnsNamespace(client, 'svc.local')
  const serviceId = await ensureService(client, { namespaceId: nsId, name: 'media', records: [{ type: 'SRV', ttl: 10 }, { type: 'A', ttl: 10 }], customHealth: true })

  const reg = await client.send(
    new RegisterInstanceCommand({ ServiceId: serviceId, InstanceId: 'node-a', Attributes: { AWS_INSTANCE_IPV4: '10.0.0.1', AWS_INSTANCE_PORT: '9000', zone: 'a' } }),
  )
  const op = await client.send(new GetOperationCommand({ OperationId: reg.OperationId }))
  t.equal(op.Operation?.Type, 'REGISTER_INSTANCE')
  t.same(op.Operation?.Targets, { NAMESPACE: nsId, SERVICE: serviceId, INSTANCE: 'node-a' })

  const got = await client.send(new GetInstanceCommand({ ServiceId: serviceId, InstanceId: 'node-a' }))
  t.same(got.Instance?.Attributes, { AWS_INSTANCE_IPV4: '10.0.0.1', AWS_INSTANCE_PORT: '9000', zone: 'a' })
  await registerInstance(client, { serviceId, instanceId: 'node-b', ipv4: '10.0.0.2', port: 9001 })
  const listed = await client.send(new ListInstancesCommand({ ServiceId: serviceId }))
  t.same(listed.Instances?.map((i) => i.Id), ['node-a', 'node-b'])
  t.equal((await client.send(new GetServiceCommand({ Id: serviceId }))).Service?.InstanceCount, 2)

  await client.send(new UpdateInstanceCustomHealthStatusCommand({ ServiceId: serviceId, InstanceId: 'node-a', Status: 'UNHEALTHY' }))
  const dereg = await client.send(new DeregisterInstanceCommand({ ServiceId: serviceId, InstanceId: 'node-b' }))
  t.equal((await client.send(new GetOperationCommand({ OperationId: dereg.OperationId }))).Operation?.Type, 'DEREGISTER_INSTANCE')
  await rejectsWith(t, client.send(new GetInstanceCommand({ ServiceId: serviceId, InstanceId: 'node-b' })), InstanceNotFound, 'deregistered instance')
  await rejectsWith(t, client.send(new DeregisterInstanceCommand({ ServiceId: serviceId, InstanceId: 'node-b' })), InstanceNotFound, 'deregister twice')
  await rejectsWith(t, client.send(new ListInstancesCommand({ ServiceId: 'srv-missing' })), ServiceNotFound, 'unknown service')
  await rejectsWith(t, client.send(new RegisterInstanceCommand({ ServiceId: 'srv-missing', InstanceId: 'x', Attributes: {} })), ServiceNotFound, 'register in unknown service')
  await rejectsWith(t, client.send(new UpdateInstanceCustomHealthStatusCommand({ ServiceId: serviceId, InstanceId: 'ghost', Status: 'HEALTHY' })), InstanceNotFound, 'health of unknown instance')
  await rejectsWith(t, client.send(new RegisterInstanceCommand({ ServiceId: serviceId, InstanceId: 'no-port', Attributes: { AWS_INSTANCE_IPV4: '10.0.0.3' } })), InvalidInput, 'SRV service without AWS_INSTANCE_PORT')
  await rejectsWith(t, client.send(new RegisterInstanceCommand({ ServiceId: serviceId, InstanceId: 'bad-ip', Attributes: { AWS_INSTANCE_IPV4: '10.0.0.300', AWS_INSTANCE_PORT: '1' } })), InvalidInput, 'bad IPv4')
  await rejectsWith(t, client.send(new RegisterInstanceCommand({ ServiceId: serviceId, InstanceId: 'has space', Attributes: { AWS_INSTANCE_IPV4: '10.0.0.3', AWS_INSTANCE_PORT: '1' } })), InvalidInput, 'InstanceId pattern')
  await rejectsWith(t, client.send(new RegisterInstanceCommand({ ServiceId: serviceId, InstanceId: 'x'.repeat(64), Attributes: { AWS_INSTANCE_IPV4: '10.0.0.3', AWS_INSTANCE_PORT: '1' } })), InvalidInput, 'InstanceId longer than a DNS label in an SRV service')
  await rejectsWith(t, client.send(new RegisterInstanceCommand({ ServiceId: serviceId, InstanceId: 'r1', CreatorRequestId: 'same', Attributes: { AWS_INSTANCE_IPV4: '10.0.0.3', AWS_INSTANCE_PORT: '1' } })).then(() =>
    client.send(new RegisterInstanceCommand({ ServiceId: serviceId, InstanceId: 'r2', CreatorRequestId: 'same', Attributes: { AWS_INSTANCE_IPV4: '10.0.0.4', AWS_INSTANCE_PORT: '1' } })),
  ), DuplicateRequest, 'CreatorRequestId reused for another instance')

  const plainId = await ensureService(client, { namespaceId: nsId, name: 'plain', records: [{ type: 'A', ttl: 5 }] })
  await registerInstance(client, { serviceId: plainId, instanceId: 'p1', ipv4: '10.0.1.1', port: 80 })
  await rejectsWith(t, client.send(new UpdateInstanceCustomHealthStatusCommand({ ServiceId: plainId, InstanceId: 'p1', Status: 'UNHEALTHY' })), CustomHealthNotFound, 'no custom health config')
})

t.test('DiscoverInstances: health filters, query and optional parameters, MaxResults', async (t) => {
  const { client } = await setup(t)
  const nsId = await ensurePrivateDnsNamespace(client, 'svc.local')
  const serviceId = await ensureService(client, { namespaceId: nsId, name: 'media', records: [{ type: 'SRV', ttl: 10 }, { type: 'A', ttl: 10 }], customHealth: true })
  await registerInstance(client, { serviceId, instanceId: 'a1', ipv4: '10.0.0.1', port: 1, attributes: { zone: 'a', version: 'v1' } })
  await registerInstance(client, { serviceId, instanceId: 'a2', ipv4: '10.0.0.2', port: 1, attributes: { zone: 'a', version: 'v2' } })
  await registerInstance(client, { serviceId, instanceId: 'b1', ipv4: '10.0.0.3', port: 1, attributes: { zone: 'b', version: 'v1', AWS_INIT_HEALTH_STATUS: 'UNHEALTHY' } })

  const ids = async (input: Omit<ConstructorParameters<typeof DiscoverInstancesCommand>[0], 'NamespaceName' | 'ServiceName'>): Promise<string[]> => {
    const out = await client.send(new DiscoverInstancesCommand({ NamespaceName: 'svc.local', ServiceName: 'media', ...input }))
    return (out.Instances ?? []).map((i) => i.InstanceId ?? '').sort()
  }
  t.same(await ids({}), ['a1', 'a2'], 'default is HEALTHY')
  t.same(await ids({ HealthStatus: 'HEALTHY' }), ['a1', 'a2'])
  t.same(await ids({ HealthStatus: 'UNHEALTHY' }), ['b1'], 'AWS_INIT_HEALTH_STATUS=UNHEALTHY')
  t.same(await ids({ HealthStatus: 'ALL' }), ['a1', 'a2', 'b1'])
  t.same(await ids({ HealthStatus: 'HEALTHY_OR_ELSE_ALL' }), ['a1', 'a2'])
  t.same(await ids({ HealthStatus: 'HEALTHY_OR_ELSE_ALL', QueryParameters: { zone: 'b' } }), ['b1'], 'fails open when none is healthy')
  t.same(await ids({ HealthStatus: 'HEALTHY', QueryParameters: { zone: 'b' } }), [])
  t.same(await ids({ QueryParameters: { zone: 'a', version: 'v2' } }), ['a2'], 'all query parameters must match')
  t.same(await ids({ QueryParameters: { zone: 'a' }, OptionalParameters: { version: 'v1' } }), ['a1'], 'optional parameters narrow when they match')
  t.same(await ids({ QueryParameters: { zone: 'a' }, OptionalParameters: { version: 'v9' } }), ['a1', 'a2'], 'and are ignored when nothing matches')
  t.equal((await ids({ MaxResults: 1 })).length, 1)

  // Cloud Map returns a randomized list: many calls show more than one order.
  const orders = new Set<string>()
  for (let i = 0; i < 30; i++) {
    const out = await client.send(new DiscoverInstancesCommand({ NamespaceName: 'svc.local', ServiceName: 'media', HealthStatus: 'ALL' }))
    orders.add((out.Instances ?? []).map((instance) => instance.InstanceId).join(','))
  }
  t.ok(orders.size > 1, `order is randomized (${orders.size} orders seen)`)

  const full = await client.send(new DiscoverInstancesCommand({ NamespaceName: 'svc.local', ServiceName: 'media', HealthStatus: 'ALL' }))
  const b1 = full.Instances?.find((i) => i.InstanceId === 'b1')
  t.equal(b1?.HealthStatus, 'UNHEALTHY')
  t.equal(b1?.NamespaceName, 'svc.local')
  t.equal(b1?.ServiceName, 'media')
  t.equal(b1?.Attributes?.['AWS_INSTANCE_IPV4'], '10.0.0.3')

  // Services without a health check ignore HealthStatus.
  const plainId = await ensureService(client, { namespaceId: nsId, name: 'plain', records: [{ type: 'A', ttl: 5 }] })
  await registerInstance(client, { serviceId: plainId, instanceId: 'p1', ipv4: '10.0.1.1', port: 80 })
  const plain = await client.send(new DiscoverInstancesCommand({ NamespaceName: 'svc.local', ServiceName: 'plain', HealthStatus: 'UNHEALTHY' }))
  t.same(plain.Instances?.map((i) => i.InstanceId), ['p1'])

  await rejectsWith(t, client.send(new DiscoverInstancesCommand({ NamespaceName: 'nope.local', ServiceName: 'media' })), NamespaceNotFound, 'unknown namespace name')
  await rejectsWith(t, client.send(new DiscoverInstancesCommand({ NamespaceName: 'svc.local', ServiceName: 'nope' })), ServiceNotFound, 'unknown service name')
  await rejectsWith(t, client.send(new DiscoverInstancesCommand({ NamespaceName: 'svc.local', ServiceName: 'media', MaxResults: 0 })), InvalidInput, 'MaxResults out of range')
})

t.test('InstancesRevision moves on register/deregister/attribute change, not on health', async (t) => {
  const { client } = await setup(t)
  const nsId = await ensurePrivateDnsNamespace(client, 'svc.local')
  const serviceId = await ensureService(client, { namespaceId: nsId, name: 'media', records: [{ type: 'A', ttl: 10 }], customHealth: true })
  const revision = async (): Promise<number | undefined> =>
    (await client.send(new DiscoverInstancesRevisionCommand({ NamespaceName: 'svc.local', ServiceName: 'media' }))).InstancesRevision

  const r0 = await revision()
  await registerInstance(client, { serviceId, instanceId: 'a', ipv4: '10.0.0.1', port: 1 })
  const r1 = await revision()
  t.ok(r1 !== undefined && r0 !== undefined && r1 > r0, 'register bumps')
  const discovered = await client.send(new DiscoverInstancesCommand({ NamespaceName: 'svc.local', ServiceName: 'media' }))
  t.equal(discovered.InstancesRevision, r1, 'DiscoverInstances returns the same revision')

  await client.send(new UpdateInstanceCustomHealthStatusCommand({ ServiceId: serviceId, InstanceId: 'a', Status: 'UNHEALTHY' }))
  t.equal(await revision(), r1, 'health change does not bump')

  await registerInstance(client, { serviceId, instanceId: 'a', ipv4: '10.0.0.1', port: 1, attributes: { version: 'v2' } })
  const r2 = await revision()
  t.ok(r2 !== undefined && r1 !== undefined && r2 > r1, 'attribute change bumps')

  await client.send(new DeregisterInstanceCommand({ ServiceId: serviceId, InstanceId: 'a' }))
  const r3 = await revision()
  t.ok(r3 !== undefined && r2 !== undefined && r3 > r2, 'deregister bumps')
  await rejectsWith(t, client.send(new DiscoverInstancesRevisionCommand({ NamespaceName: 'svc.local', ServiceName: 'nope' })), ServiceNotFound, 'unknown service')
})

t.test('throttle switch answers RequestLimitExceeded for the chosen share of discovery calls', async (t) => {
  const { emu, client: setupClient } = await setup(t)
  const nsId = await ensurePrivateDnsNamespace(setupClient, 'svc.local')
  await ensureService(setupClient, { namespaceId: nsId, name: 'media', records: [{ type: 'A', ttl: 10 }] })
  // One attempt: the SDK retries RequestLimitExceeded on its own otherwise.
  const client = emulatorClient(emu.apiEndpoint, { maxAttempts: 1 })
  t.teardown(() => client.destroy())
  const discover = (): Promise<unknown> => client.send(new DiscoverInstancesCommand({ NamespaceName: 'svc.local', ServiceName: 'media' }))
  const revision = (): Promise<unknown> => client.send(new DiscoverInstancesRevisionCommand({ NamespaceName: 'svc.local', ServiceName: 'media' }))

  emu.setThrottle(1)
  const err = await rejectsWith(t, discover(), RequestLimitExceeded, 'DiscoverInstances throttled')
  t.equal(err?.$metadata.httpStatusCode, 429)
  await rejectsWith(t, revision(), RequestLimitExceeded, 'DiscoverInstancesRevision throttled')
  await client.send(new ListServicesCommand({}))
  t.pass('other operations are never throttled')

  emu.setThrottle(0.25)
  let throttled = 0
  for (let i = 0; i < 40; i++) {
    try {
      await discover()
    } catch (e) {
      if (e instanceof RequestLimitExceeded) throttled++
      else throw e
    }
  }
  t.equal(throttled, 10, 'exactly a quarter')
  emu.setThrottle(0)
  await discover()
  t.throws(() => emu.setThrottle(1.5), RangeError)
})

t.test('call counters per operation', async (t) => {
  const { emu, client } = await setup(t)
  const nsId = await ensurePrivateDnsNamespace(client, 'svc.local')
  await ensureService(client, { namespaceId: nsId, name: 'media', records: [{ type: 'A', ttl: 10 }] })
  emu.stats.reset()
  t.equal(emu.stats.apiCalls(), 0)
  for (let i = 0; i < 3; i++) await client.send(new DiscoverInstancesCommand({ NamespaceName: 'svc.local', ServiceName: 'media' }))
  await client.send(new DiscoverInstancesRevisionCommand({ NamespaceName: 'svc.local', ServiceName: 'media' }))
  await rejectsWith(t, client.send(new GetServiceCommand({ Id: 'srv-nope' })), ServiceNotFound, 'failed calls count too')
  t.equal(emu.stats.apiCalls('DiscoverInstances'), 3)
  t.equal(emu.stats.apiCalls('DiscoverInstancesRevision'), 1)
  t.equal(emu.stats.apiCalls('GetService'), 1)
  t.equal(emu.stats.apiCalls('RegisterInstance'), 0)
  t.equal(emu.stats.apiCalls(), 5)
})

t.test('raw HTTP: bad JSON, unknown operation, wrong shapes get AWS errors and the server keeps serving', async (t) => {
  const { emu, client } = await setup(t)
  const post = async (target: string | undefined, body: string): Promise<{ status: number; type: string | null; json: unknown }> => {
    const headers: Record<string, string> = { 'content-type': 'application/x-amz-json-1.1' }
    if (target !== undefined) headers['x-amz-target'] = target
    const res = await fetch(`${emu.apiEndpoint}/`, { method: 'POST', headers, body })
    return { status: res.status, type: res.headers.get('x-amzn-errortype'), json: await res.json() }
  }
  const bad = await post('Route53AutoNaming_v20170314.ListNamespaces', '{not json')
  t.equal(bad.status, 400)
  t.equal(bad.type, 'SerializationException')
  t.match(bad.json, { __type: 'SerializationException', Message: String })

  const unknown = await post('Route53AutoNaming_v20170314.LaunchRockets', '{}')
  t.equal(unknown.status, 400)
  t.match(unknown.json, { __type: 'UnknownOperationException' })
  const noTarget = await post(undefined, '{}')
  t.match(noTarget.json, { __type: 'UnknownOperationException' })

  const array = await post('Route53AutoNaming_v20170314.GetService', '[1,2]')
  t.equal(array.status, 400)
  t.match(array.json, { __type: 'SerializationException' })
  const wrongType = await post('Route53AutoNaming_v20170314.GetService', '{"Id": 42}')
  t.equal(wrongType.status, 400)
  t.match(wrongType.json, { __type: 'InvalidInput', Message: /Id/ })
  const badAttrs = await post('Route53AutoNaming_v20170314.RegisterInstance', '{"ServiceId":"srv-x","InstanceId":"i","Attributes":{"a":1}}')
  t.match(badAttrs.json, { __type: 'InvalidInput' })
  const badEnum = await post('Route53AutoNaming_v20170314.DiscoverInstances', '{"NamespaceName":"a","ServiceName":"b","HealthStatus":"MAYBE"}')
  t.match(badEnum.json, { __type: 'InvalidInput' })
  const badFilters = await post('Route53AutoNaming_v20170314.ListNamespaces', '{"Filters":{"Name":"TYPE"}}')
  t.match(badFilters.json, { __type: 'InvalidInput' })

  const listed = await client.send(new ListNamespacesCommand({}))
  t.same(listed.Namespaces, [], 'still serving')
})

t.test('options are checked up front', async (t) => {
  await t.rejects(startEmulator({ host: 'localhost', log: () => {} }), { name: 'RangeError', message: /host/ })
  await t.rejects(startEmulator({ apiPort: -1, log: () => {} }), { name: 'RangeError', message: /apiPort/ })
  await t.rejects(startEmulator({ dnsPort: 1.5, log: () => {} }), { name: 'RangeError', message: /dnsPort/ })
  const logged: Array<Record<string, unknown>> = []
  const emu = await startEmulator({ log: (entry) => logged.push(entry) })
  t.teardown(() => emu.close())
  t.match(emu.apiEndpoint, /^http:\/\/127\.0\.0\.1:\d+$/)
  t.equal(emu.dns.host, '127.0.0.1')
  t.ok(emu.dns.port > 0)
  t.match(logged, [{ msg: 'cloud map emulator listening', api: emu.apiEndpoint, dns: { port: emu.dns.port } }], 'one line saying where it listens')
  t.throws(() => emu.setDnsMode('sometimes' as 'answer'), RangeError)
})

t.test('no request shape makes the server fail: every operation × wrongly typed fields → 4xx AWS error', async (t) => {
  const { emu, client } = await setup(t)
  const nsId = await ensurePrivateDnsNamespace(client, 'svc.local')
  const serviceId = await ensureService(client, { namespaceId: nsId, name: 'media', records: [{ type: 'SRV', ttl: 5 }], customHealth: true })
  const operations = [
    'CreateHttpNamespace', 'CreatePrivateDnsNamespace', 'CreatePublicDnsNamespace', 'ListNamespaces', 'GetNamespace', 'CreateService',
    'ListServices', 'GetService', 'RegisterInstance', 'DeregisterInstance', 'GetInstance', 'ListInstances', 'DiscoverInstances',
    'DiscoverInstancesRevision', 'UpdateInstanceCustomHealthStatus', 'GetOperation',
  ]
  const fields = [
    'Name', 'Vpc', 'Id', 'NamespaceId', 'ServiceId', 'InstanceId', 'OperationId', 'Attributes', 'DnsConfig', 'HealthCheckConfig',
    'HealthCheckCustomConfig', 'Filters', 'MaxResults', 'NextToken', 'NamespaceName', 'ServiceName', 'QueryParameters',
    'OptionalParameters', 'HealthStatus', 'Status', 'Properties', 'Tags', 'Type', 'CreatorRequestId', 'Description',
  ]
  const base: Record<string, unknown> = { Name: 'x.local', Vpc: 'vpc', Id: nsId, NamespaceId: nsId, ServiceId: serviceId, InstanceId: 'i', NamespaceName: 'svc.local', ServiceName: 'media', OperationId: 'op', Status: 'HEALTHY' }
  const wrong: unknown[] = [42, true, [], {}, 'text', [{}], -1]
  let statuses = 0
  for (const operation of operations) {
    for (const field of fields) {
      for (const value of wrong) {
        const res = await fetch(`${emu.apiEndpoint}/`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `Route53AutoNaming_v20170314.${operation}` },
          body: JSON.stringify({ ...base, [field]: value }),
        })
        const body: unknown = await res.json()
        if (res.status >= 500) t.fail(`${operation} ${field}=${JSON.stringify(value)} → ${res.status} ${JSON.stringify(body)}`)
        else statuses++
      }
    }
  }
  t.equal(statuses, operations.length * fields.length * wrong.length, 'all answered below 500')
  const listed = await client.send(new ListNamespacesCommand({}))
  t.ok((listed.Namespaces?.length ?? 0) >= 1, 'still serving')
})
