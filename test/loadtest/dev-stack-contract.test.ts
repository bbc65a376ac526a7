// The runner's check of what infra/local's startDevStack() returns: the agreed
// fields are required, close() and an optional drainNode() are called through.

import t from 'tap'
import { DevStackError, toDevStack } from '../../loadtest/src/lib/dev-stack.js'

const valid = () => ({
  routerUrl: 'http://127.0.0.1:8080/',
  adminUrl: 'http://127.0.0.1:9090',
  deployments: ['hello', 'echo'],
  mediaNodes: ['node-1'],
  closed: 0,
  async close() {
    this.closed++
  },
})

t.test('accepts the contract and calls close() on the original object', async (t) => {
  const raw = valid()
  const stack = toDevStack(raw)
  t.equal(stack.routerUrl, 'http://127.0.0.1:8080', 'trailing slash dropped')
  t.same(stack.deployments, ['hello', 'echo'])
  t.same(stack.mediaNodes, ['node-1'])
  t.equal(stack.drainNode, undefined, 'no drain without drainNode()')
  await stack.close()
  t.equal(raw.closed, 1)
})

t.test('picks up an optional drainNode(nodeId)', async (t) => {
  const drained: string[] = []
  const stack = toDevStack({ ...valid(), drainNode: async (id: string) => void drained.push(id) })
  t.ok(stack.drainNode !== undefined)
  await stack.drainNode?.('node-1')
  t.same(drained, ['node-1'])
})

t.test('rejects anything else with a DevStackError naming the field', async (t) => {
  const cases: [unknown, RegExp][] = [
    [null, /did not return an object/],
    [{ ...valid(), routerUrl: 8080 }, /routerUrl/],
    [{ ...valid(), adminUrl: undefined }, /adminUrl/],
    [{ ...valid(), deployments: 'hello' }, /deployments/],
    [{ ...valid(), mediaNodes: [1] }, /mediaNodes/],
    [{ ...valid(), close: 'no' }, /close/],
  ]
  for (const [value, message] of cases) t.throws(() => toDevStack(value), { name: 'DevStackError', message }, String(message))
  t.ok(new DevStackError('x') instanceof Error)
})
