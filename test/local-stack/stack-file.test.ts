// The stack file of `npm start -- --stack <file>`: a good file becomes typed
// entries with defaults; every mistake is refused with the entry and field named.
import t from 'tap'
import { defaultInstanceId, parseStackFile, StackFileError } from '../../infra/local/src/stack-file.js'

t.test('a full file with defaults filled in', async (t) => {
  const parsed = parseStackFile(
    JSON.stringify({
      deployments: [{ name: 'blue', instances: 2, attributes: { version: '2' } }, { name: 'plain', echo: false }],
      mediaNodes: ['node-3'],
      services: [
        { service: 'myapp', port: 3000 },
        { service: 'myapp', host: '10.0.0.7', port: 3000, attributes: { weight: '3' } },
        { service: 'media', port: 9000, id: 'node-9' },
      ],
    }),
  )
  t.same(parsed, {
    demo: true,
    deployments: [
      { name: 'blue', instances: 2, echo: true, attributes: { version: '2' } },
      { name: 'plain', instances: 1, echo: false, attributes: {} },
    ],
    mediaNodes: ['node-3'],
    services: [
      { service: 'myapp', host: '127.0.0.1', port: 3000, id: 'myapp-3000', attributes: {} },
      { service: 'myapp', host: '10.0.0.7', port: 3000, id: 'myapp-10-0-0-7-3000', attributes: { weight: '3' } },
      { service: 'media', host: '127.0.0.1', port: 9000, id: 'node-9', attributes: {} },
    ],
  })
  t.same(parseStackFile('{}'), { demo: true, deployments: [], mediaNodes: [], services: [] })
  t.equal(parseStackFile('{"demo": false}').demo, false)
  t.equal(defaultInstanceId('a', '127.0.0.1', 80), 'a-80')
})

t.test('errors name the file, the entry and the field', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['not json', /^my\.json: not valid JSON/],
    ['[]', /^my\.json: \(top level\): expected an object/],
    ['{"deployment": []}', /^my\.json: deployment: unknown field \(expected one of demo, deployments, mediaNodes, services\)/],
    ['{"demo": "yes"}', /^my\.json: demo: expected true or false, got "yes"/],
    ['{"deployments": {}}', /^my\.json: deployments: expected an array/],
    ['{"deployments": ["blue"]}', /^my\.json: deployments\[0\]: expected an object like/],
    ['{"deployments": [{"name": "Blue.1"}]}', /^my\.json: deployments\[0\]\.name: expected a DNS label .*got "Blue\.1"/],
    ['{"deployments": [{"name": "b", "instances": 0}]}', /^my\.json: deployments\[0\]\.instances: expected an integer 1\.\.20, got 0/],
    ['{"deployments": [{"name": "b", "instances": 2.5}]}', /deployments\[0\]\.instances: expected an integer/],
    ['{"deployments": [{"name": "b", "echo": 1}]}', /deployments\[0\]\.echo: expected true or false/],
    ['{"deployments": [{"name": "b", "port": 1}]}', /deployments\[0\]\.port: unknown field/],
    ['{"deployments": [{"name": "b"}, {"name": "b"}]}', /deployments\[1\]\.name: duplicate of deployments\[0\]\.name/],
    ['{"deployments": [{"name": "b", "attributes": {"AWS_INSTANCE_PORT": "1"}}]}', /deployments\[0\]\.attributes\.AWS_INSTANCE_PORT: AWS_\* attributes are set by the stack/],
    ['{"deployments": [{"name": "b", "attributes": {"w": 3}}]}', /deployments\[0\]\.attributes\.w: expected a string/],
    ['{"mediaNodes": ["allocate"]}', /mediaNodes\[0\]: "allocate" is reserved/],
    ['{"mediaNodes": ["n1", 2]}', /mediaNodes\[1\]: expected a DNS label/],
    ['{"services": [{"port": 3000}]}', /services\[0\]\.service: expected a DNS label .*got undefined/],
    ['{"services": [{"service": "a", "port": "3000"}]}', /services\[0\]\.port: expected an integer 1\.\.65535, got "3000"/],
    ['{"services": [{"service": "a", "port": 70000}]}', /services\[0\]\.port: expected an integer 1\.\.65535, got 70000/],
    ['{"services": [{"service": "a", "port": 1, "host": "localhost"}]}', /services\[0\]\.host: expected an IPv4 address \(Cloud Map's AWS_INSTANCE_IPV4\), got "localhost"/],
    ['{"services": [{"service": "a", "port": 1, "id": "a_1"}]}', /services\[0\]\.id: expected a DNS label/],
    ['{"services": [{"service": "a", "port": 1}, {"service": "a", "port": 1}]}', /services\[1\]: duplicate of services\[0\]/],
    ['{"deployments": [{"name": "a"}], "services": [{"service": "a", "port": 1}]}', /services\[0\]\.service: "a" is also a demo deployment/],
  ]
  for (const [text, message] of cases) t.throws(() => parseStackFile(text, 'my.json'), { name: 'StackFileError', message }, text)
  t.ok(new StackFileError('x') instanceof Error)
})
