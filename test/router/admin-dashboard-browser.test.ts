// The admin dashboard in a real browser (Debian's chromium, headless, driven by
// playwright-core) against the real local stack (Cloud Map emulator, media
// nodes, demo deployments, a blue/green app `web` with deployments web-a and
// web-b, router with API discovery): log in through the form, see the nodes,
// the app's deployments and a live WebSocket count, drain node-1 with its
// button and see it DRAINING (and the node itself agree), make web-b current
// with its button and see the page (and a new visitor) follow, then log out.
// Every wait is on the page's content, none on a clock. A screenshot is saved
// to test-artifacts/ (gitignored).
import t from 'tap'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import WebSocket from 'ws'
import { request } from 'undici'
import { startDevStack } from '../../infra/local/src/dev-stack.js'
import { EMPTY_STACK_FILE } from '../../infra/local/src/stack-file.js'
import { emulatorClient } from '../../infra/local/src/emulator/sdk-setup.js'
import { DeploymentRegistry } from '../../router/src/deployments/registry.js'
import { chromiumMissing, launchChromium } from '../fixtures/chromium.js'

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url))

const missing = chromiumMissing()
if (missing !== undefined) {
  console.log(`SKIPPED: ${missing}`)
  t.pass('admin dashboard in Chromium', { skip: missing })
} else {
  t.test('log in, see the stack, drain a node, switch a deployment, log out', { timeout: 90_000 }, async (t) => {
    // The blue/green app: one route with affinity, two releases as deployments of the stack.
    const routesFile = join(mkdtempSync(join(tmpdir(), 'dashboard-browser-')), 'routes.json')
    writeFileSync(routesFile, JSON.stringify({ routes: [{ name: 'web', path: '/*', service: 'web', affinity: true }] }))
    const stackFile = { ...EMPTY_STACK_FILE, deployments: ['web-a', 'web-b'].map((name) => ({ name, instances: 1, echo: false, attributes: {} })) }
    const stack = await startDevStack({ routerPort: 0, adminPort: 0, quiet: true, stackFile, routerEnv: { DISCOVERY_MODE: 'cloudmap', CLOUDMAP_REVISION_POLL_MS: '1000', ROUTES_FILE: routesFile } })
    t.teardown(() => stack.close())
    t.equal(stack.routerEnv['DEPLOYMENT_CONTROL'], 'true', 'npm start turns the deployment actions on')
    // The release pipeline's part (npm run deployments -- switch): web-b known, web-a current.
    const client = emulatorClient(stack.emulator.apiEndpoint)
    t.teardown(() => client.destroy())
    const registry = new DeploymentRegistry({ client, namespace: 'ecs.internal', sleep: async () => undefined })
    await registry.switchTo('web', 'web-b')
    await registry.switchTo('web', 'web-a')
    // Traffic, so the deployments are discovered (on demand) and the routes have rates.
    for (const path of ['/services/hello/a', '/services/hello/b', '/services/echo/c', '/services/nope/d']) {
      const r = await request(`${stack.routerUrl}${path}`)
      await r.body.text()
    }
    // An open session on node-1: draining keeps it DRAINING (an idle node would drain and stop at once).
    const ws = new WebSocket(`${stack.routerUrl.replace('http', 'ws')}/media/node-1/ws/dashboard-test`)
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve())
      ws.once('error', reject)
    })
    t.teardown(() => ws.terminate())

    const browser = await launchChromium()
    t.teardown(() => browser.close())
    const page = await browser.context.newPage()
    const consoleErrors: string[] = []
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text())
    })
    page.on('pageerror', (e) => consoleErrors.push(e.message))

    await page.goto(`${stack.adminUrl}/admin/`)
    t.match(page.url(), /\/admin\/login$/, 'no session: the dashboard sends the browser to the login form')
    await page.fill('#token', 'not-the-admin-token')
    await page.click('button[type=submit]')
    await page.getByText('Wrong token.').waitFor()
    t.pass('a wrong token is refused on the form')

    await page.fill('#token', stack.adminToken)
    await Promise.all([page.waitForURL(/\/admin\/$/), page.click('button[type=submit]')])
    // From here on nothing may fail in the page (the wrong token's 401 above is logged as a failed resource).
    consoleErrors.length = 0
    const cookies = await browser.context.cookies(stack.adminUrl + '/admin/')
    const session = cookies.find((c) => c.name === 'router_admin')
    t.match(session, { httpOnly: true, sameSite: 'Strict', path: '/admin', secure: false }, 'session cookie: HttpOnly, SameSite=Strict, /admin only')
    t.equal(await page.evaluate('document.cookie'), '', 'the page script cannot read the session cookie')

    for (const node of stack.mediaNodes) await page.locator(`#nodes tr[data-node="${node}"][data-status="ACTIVE"]`).waitFor()
    t.pass('both media nodes listed ACTIVE')
    for (const dep of stack.deployments) await page.locator(`#deployments tr[data-deployment="${dep}"]`).waitFor()
    t.same(stack.deployments, ['hello', 'echo', 'web-a', 'web-b'])
    t.match(await page.locator('#deployments tr[data-deployment="hello"]').innerText(), /hello-1[\s\S]*hello-2|hello-2[\s\S]*hello-1/, 'hello shows both instances')
    await page.locator('#stat-ws', { hasText: /^1$/ }).waitFor()
    t.pass('the open WebSocket is counted')
    await page.locator('#routes tr[data-route="services"]').waitFor()
    await page.locator('#nodes tr[data-node="node-1"] td', { hasText: /^1$/ }).first().waitFor()
    t.pass("node-1's own connection count shows the session")

    const drain = page.locator('#nodes tr[data-node="node-1"] button.drain')
    await drain.click()
    await page.locator('#nodes tr[data-node="node-1"] button.drain.confirm').click()
    await page.locator('#nodes tr[data-node="node-1"][data-status="DRAINING"]').waitFor()
    t.pass('node-1 shows DRAINING after the drain button')
    t.equal(await page.locator('#nodes tr[data-node="node-1"] button.drain').isDisabled(), true, 'its drain button is disabled')
    t.equal(await page.locator('#nodes tr[data-node="node-2"]').getAttribute('data-status'), 'ACTIVE', 'node-2 stays ACTIVE')
    const said = await request(`${stack.routerUrl}/media/node-1/status`)
    t.match(JSON.parse(await said.body.text()), { nodeId: 'node-1', status: 'DRAINING' }, 'the node itself says DRAINING')

    // Blue/green: the app with both deployments, web-a current; make web-b current with its button.
    const app = page.locator('#apps tr.app-head[data-app="web"]')
    await page.locator('#apps tr.app-head[data-app="web"][data-current="web-a"]').waitFor()
    await page.locator('#apps tr[data-app="web"][data-deployment="web-a"][data-state="CURRENT"]').waitFor()
    await page.locator('#apps tr[data-app="web"][data-deployment="web-b"][data-state="KNOWN"]').waitFor()
    t.pass('the app shows web-a current and web-b known')
    t.match(await page.locator('#apps tr[data-deployment="web-b"]').innerText(), /web-b-1/, "web-b's instance is listed")
    t.equal(await page.locator('#apps tr[data-deployment="web-a"] button.switch').isDisabled(), true, 'the current deployment has no switch button')
    t.equal(await page.locator('#apps tr[data-deployment="web-a"] button.drain-deployment').isDisabled(), true, 'and cannot be drained')
    const makeCurrent = page.locator('#apps tr[data-deployment="web-b"] button.switch')
    t.equal(await makeCurrent.isDisabled(), false)
    await makeCurrent.click()
    await page.locator('#apps tr[data-deployment="web-b"] button.switch.confirm').click()
    await page.locator('#apps tr.app-head[data-app="web"][data-current="web-b"]').waitFor()
    await page.locator('#apps tr[data-app="web"][data-deployment="web-b"][data-state="CURRENT"]').waitFor()
    t.pass('after its button, the page shows web-b current (once discovery refreshed)')
    t.match(await app.innerText(), /current\s+web-b/)
    t.equal((await registry.list('web')).current, 'web-b', 'the registry in Cloud Map says web-b')
    const visitor = await request(`${stack.routerUrl}/`)
    t.match(JSON.parse(await visitor.body.text()), { deployment: 'web-b' }, 'a new visitor lands on web-b')

    mkdirSync(ARTIFACTS, { recursive: true })
    const shot = `${ARTIFACTS}admin-dashboard.png`
    await page.screenshot({ path: shot, fullPage: true })
    t.comment(`screenshot: ${shot}`)

    // Before logging out: a poll racing the logout may log its 401.
    t.same(consoleErrors, [], 'no script or resource errors in the page')
    await Promise.all([page.waitForURL(/\/admin\/login$/), page.click('header form button[type=submit]')])
    t.pass('log out returns to the login form')
    const after = await page.request.get(`${stack.adminUrl}/admin/api/state`)
    t.equal(after.status(), 401, 'the old session no longer opens the API')
  })
}
