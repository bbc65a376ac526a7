// ECS task metadata v4: a real HTTP server on 127.0.0.1 serves the container
// and task documents (shapes from the ECS docs); awsvpc, bridge and bad JSON.

import t from 'tap'
import { readEcsMetadata } from '../../media-node/src/ecs-metadata.js'
import { TASK_ARN, containerDoc, startMetadataServer, taskDoc } from './fixtures/ecs-metadata-server.js'

t.test('awsvpc: task id, region and the task IPv4', async (t) => {
  const container = containerDoc('awsvpc', '10.0.2.100')
  const uri = await startMetadataServer(t, container, taskDoc(container))
  const info = await readEcsMetadata(uri, { containerPort: 8080 })
  t.same(info, {
    taskArn: TASK_ARN,
    taskId: '8f03e41243824aea923aca126495f665',
    region: 'us-west-2',
    networkMode: 'awsvpc',
    ipv4: '10.0.2.100',
    hostPort: undefined,
  })
})

t.test('bridge: no routable IPv4, host port of our container port', async (t) => {
  const container = containerDoc('bridge', '172.17.0.2', [
    { ContainerPort: 9999, HostPort: 40000 },
    { ContainerPort: 8080, HostPort: 49153 },
  ])
  const uri = await startMetadataServer(t, container, taskDoc(container))
  const info = await readEcsMetadata(uri, { containerPort: 8080 })
  t.match(info, { networkMode: 'bridge', ipv4: undefined, hostPort: 49153, taskId: '8f03e41243824aea923aca126495f665' })
})

t.test('malformed documents are refused with a message naming the field', async (t) => {
  const cases: [unknown, unknown, RegExp][] = [
    [containerDoc('awsvpc', '10.0.0.1'), { Cluster: 'x' }, /TaskARN/],
    [containerDoc('awsvpc', 'not-an-ip'), taskDoc({}), /IPv4Addresses/],
    [{ Networks: 'x' }, taskDoc({}), /Networks/],
    [containerDoc('awsvpc', '10.0.0.1'), 'not json', /JSON/],
    [containerDoc('awsvpc', '10.0.0.1'), { TaskARN: 'arn:aws:ecs:r:1:task/c/Bad_Id' }, /DNS label/],
  ]
  for (const [container, task, message] of cases) {
    const uri = await startMetadataServer(t, container, task)
    await t.rejects(readEcsMetadata(uri, { containerPort: 8080 }), { name: 'EcsMetadataError', message })
  }
  await t.rejects(readEcsMetadata('http://127.0.0.1:1/v4/none', { containerPort: 8080, timeoutMs: 2000 }), { name: 'EcsMetadataError' })
})
