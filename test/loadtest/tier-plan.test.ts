// The tier's address plan, topology commands and stale-run detection (pure),
// its HAProxy configuration checked by HAProxy itself (`haproxy -c`), and the
// runtime-API control of a real HAProxy on 127.0.0.1: register/deregister a
// server and read the states the health checks give.

import t from 'tap'
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { createServer, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer as createHttpServer } from 'node:http'
import { LbControl, parseServerStates } from '../../loadtest/src/tier/lb.js'
import { BRIDGE, NET_NS, PREFIX, checkInterfaceNames, haproxyConfig, hostsOf, linkCommand, ownNamespaces, tierHosts, topologyCommands } from '../../loadtest/src/tier/plan.js'

const haproxy = ['/usr/sbin/haproxy', '/usr/bin/haproxy'].find((p) => spawnSync(p, ['-v']).status === 0)

t.test('every host has its own name, namespace, veth and address inside 10.77.0.0/24', async (t) => {
  const hosts = tierHosts()
  t.equal(hosts.length, 15)
  t.equal(new Set(hosts.map((h) => h.ipv4)).size, hosts.length)
  t.equal(new Set(hosts.map((h) => h.netns)).size, hosts.length)
  t.equal(new Set(hosts.map((h) => h.veth)).size, hosts.length)
  for (const h of hosts) {
    t.match(h.ipv4, /^10\.77\.0\.(\d+)$/)
    const last = Number(h.ipv4.split('.')[3])
    t.ok(last > 0 && last < 255, `${h.ipv4} is a host address`)
    t.ok(h.netns.startsWith(PREFIX), `${h.netns} carries the prefix`)
  }
  t.same(
    hostsOf(hosts, 'router').map((h) => h.name),
    ['router-1', 'router-2', 'router-3', 'router-4', 'router-5', 'router-6'],
  )
  t.doesNotThrow(() => checkInterfaceNames(hosts))
  t.throws(() => checkInterfaceNames([{ ...hosts[0]!, veth: 'v-a-name-that-is-too-long' }]), /15 characters/)
})

t.test('topology commands: one bridge in our own namespace, every address inside the subnet, nothing outside our namespaces', async (t) => {
  const hosts = tierHosts()
  const cmds = topologyCommands(hosts)
  t.same(cmds[0], ['netns', 'add', NET_NS])
  t.ok(cmds.some((c) => c.join(' ') === `-n ${NET_NS} link add ${BRIDGE} type bridge`))
  for (const c of cmds) {
    // Every command either makes one of our namespaces or runs inside one (-n <ours>).
    if (c[0] === 'netns') t.ok(c[2]?.startsWith(PREFIX), c.join(' '))
    else t.ok(c[0] === '-n' && c[1]?.startsWith(PREFIX), c.join(' '))
    const addr = c.find((a) => /^\d+\.\d+\.\d+\.\d+\/\d+$/.test(a))
    if (addr !== undefined) t.match(addr, /^10\.77\.0\.\d+\/24$/)
  }
  const media = hosts.find((h) => h.name === 'media-2')!
  t.same(linkCommand(media, 'down'), ['-n', NET_NS, 'link', 'set', 'v-media-2', 'down'])
})

t.test('stale-run detection takes only our namespaces from `ip netns list`', async (t) => {
  const listing = ['er-tier-router-1 (id: 4)', 'er-tier-net (id: 0)', 'someone-else', 'er-tierx', 'er-tier-client', ''].join('\n')
  t.same(ownNamespaces(listing), ['er-tier-router-1', 'er-tier-net', 'er-tier-client'])
  t.same(ownNamespaces(''), [])
})

t.test('the generated HAProxy configuration is valid for HAProxy', { skip: haproxy === undefined ? 'haproxy is not installed (loadtest/scripts/install-tier-deps.sh installs it)' : false }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tier-haproxy-'))
  const cfg = haproxyConfig(tierHosts(), join(dir, 'haproxy.sock'), new Set(['router-1', 'router-2', 'router-3']))
  t.match(cfg, /option httpchk GET \/health/)
  t.match(cfg, /server router-4 10\.77\.0\.24:8080 disabled/)
  t.notMatch(cfg, /server router-1 [^\n]*disabled/)
  t.match(cfg, /timeout tunnel 60s/)
  writeFileSync(join(dir, 'haproxy.cfg'), cfg)
  const r = spawnSync(haproxy!, ['-c', '-f', join(dir, 'haproxy.cfg')], { encoding: 'utf8' })
  t.equal(r.status, 0, `haproxy -c: ${r.stdout}${r.stderr}`)
})

async function freePort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()))
  const port = (s.address() as AddressInfo).port
  await new Promise<void>((r) => s.close(() => r()))
  return port
}

t.test('LbControl against a real HAProxy: states from health checks, register and deregister through the runtime API', { skip: haproxy === undefined ? 'haproxy is not installed' : false }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'tier-haproxy-'))
  const socket = join(dir, 'haproxy.sock')
  const healthy = createHttpServer((req, res) => {
    res.writeHead(req.url === '/health' ? 200 : 404)
    res.end()
  })
  await new Promise<void>((r) => healthy.listen(0, '127.0.0.1', () => r()))
  t.teardown(() => healthy.close())
  const up = (healthy.address() as AddressInfo).port
  const down = await freePort()
  const front = await freePort()
  writeFileSync(
    join(dir, 'h.cfg'),
    [
      'global',
      `  stats socket ${socket} mode 600 level admin`,
      'defaults',
      '  mode http',
      '  timeout connect 1s',
      '  timeout client 5s',
      '  timeout server 5s',
      'frontend f',
      `  bind 127.0.0.1:${front}`,
      '  default_backend routers',
      'backend routers',
      '  option httpchk GET /health',
      '  default-server check inter 200ms fall 2 rise 2',
      `  server good 127.0.0.1:${up}`,
      `  server dead 127.0.0.1:${down}`,
      `  server spare 127.0.0.1:${up} disabled`,
      '',
    ].join('\n'),
  )
  const proc = spawn(haproxy!, ['-db', '-f', join(dir, 'h.cfg')], { stdio: 'ignore' })
  t.teardown(() => proc.kill('SIGKILL'))
  const lb = new LbControl(socket)
  // Event-driven: poll the real states until the checks have spoken (bounded by waitFor's timeout).
  await t.resolves(async () => {
    for (let i = 0; i < 100; i++) {
      try {
        await lb.states()
        return
      } catch {
        await new Promise((r) => setTimeout(r, 100))
      }
    }
    throw new Error('haproxy runtime socket never answered')
  })
  await lb.waitFor('dead', /^DOWN/, 20_000)
  await lb.waitFor('good', /^UP/, 20_000)
  t.equal((await lb.states()).get('spare'), 'MAINT')
  await lb.register('spare')
  await lb.waitFor('spare', /^UP/, 20_000)
  await lb.deregister('good')
  t.equal((await lb.states()).get('good'), 'MAINT')
  await t.rejects(lb.register('nosuch'), /nosuch/)
})

t.test('parseServerStates reads HAProxy `show stat` CSV (captured from HAProxy 2.6)', async (t) => {
  const csv = [
    '# pxname,svname,qcur,qmax,scur,smax,slim,stot,bin,bout,dreq,dresp,ereq,econ,eresp,wretr,wredis,status,weight',
    'f,FRONTEND,,,0,0,262120,0,0,0,0,0,0,,,,,OPEN,',
    'routers,router-1,0,0,0,0,,0,0,0,,0,,0,0,0,0,DOWN,1',
    'routers,router-2,0,0,0,0,,0,0,0,,0,,0,0,0,0,MAINT,1',
    'routers,router-3,0,0,0,0,,0,0,0,,0,,0,0,0,0,UP 1/2,1',
    'routers,BACKEND,0,0,0,0,26212,0,0,0,0,0,,0,0,0,0,DOWN,0',
    '',
  ].join('\n')
  t.same([...parseServerStates(csv, 'routers')], [
    ['router-1', 'DOWN'],
    ['router-2', 'MAINT'],
    ['router-3', 'UP 1/2'],
  ])
  t.same(parseServerStates('garbage', 'routers').size, 0)
})
