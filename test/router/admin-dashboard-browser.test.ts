// The admin dashboard in a real browser (Debian's chromium, headless, driven by
// playwright-core) against the real local stack (Cloud Map emulator, media
// nodes, demo deployments, router with API discovery): log in through the
// form, see the nodes and deployments and a live WebSocket count, drain
// node-1 with its button and see it DRAINING (and the node itself agree),
// then log out. Every wait is on the page's content, none on a clock. A
// screenshot is saved to test-artifacts/ (gitignored).
import t from 'tap'
import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import WebSocket from 'ws'
import { request } from 'undici'
import { startDevStack } from '../../infra/local/src/dev-stack.js'
import { chromiumMissing, launchChromium } from '../fixtures/chromium.js'

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url))

const missing = chromiumMissing()
if (missing !== undefined) {
  console.log(`SKIPPED: ${missing}`)
  t.pass('admin dashboard in Chromium', { skip: missing })
} else {
  t.test('log in, see the stack, drain a node, log out', { timeout: 90_000 }, async (t) => {
    const stack = await startDevStack({ routerPort: 0, adminPort: 0, quiet: true, routerEnv: { DISCOVERY_MODE: 'cloudmap', CLOUDMAP_REVISION_POLL_MS: '1000' } })
    t.teardown(() => stack.close())
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
