import t from 'tap'
import { NoHealthyEndpointError, NoRouteError, InvalidCaptureError } from '../../router/src/errors.js'

t.test('errors carry status, code and a JSON body', async (t) => {
  const e = new NoHealthyEndpointError('deployment "a"', 5)
  t.equal(e.statusCode, 503)
  t.equal(e.headers['retry-after'], '5')
  t.same(e.toBody(), { error: 'deployment "a" has no healthy instance', code: 'NO_HEALTHY_ENDPOINT' })
  const n = new NoRouteError(['/services/<deploymentId>/...'])
  t.equal(n.statusCode, 404)
  t.match(n.message, /services/)
  t.equal(new InvalidCaptureError('nodeId').statusCode, 400)
})
