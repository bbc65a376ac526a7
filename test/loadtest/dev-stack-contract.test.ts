// The runner's check of what infra/local's startDevStack() returns: the agreed
// fields are required, close() is called through, optional media node admin
// URLs and token are picked up.

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
  t.same(stack.mediaAdminUrls, {}, 'no admin listeners known')
  t.equal(stack.adminToken, undefined)
  await stack.close()
  t.equal(raw.closed, 1)
})

t.test('picks up media node admin URLs and the token, ignoring non-strings', async (t) => {
  const stack = toDevStack({ ...valid(), mediaNodes: ['node-1', 'node-2'], adminToken: 'tok', mediaNodeAdminUrls: ['http://127.0.0.1:9101', 3] })
  t.same(stack.mediaAdminUrls, { 'node-1': 'http://127.0.0.1:9101' }, 'by node id, in mediaNodes order')
  t.equal(stack.adminToken, 'tok')
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
