// The admin dashboard's static files: the login and dashboard pages, the
// style sheet, and the page's script (router/src/admin/ui/app.ts, compiled by
// `npm run build` to dist/router/src/admin/ui/app.js next to this module and
// read once from there). No framework, no CDN, nothing fetched from elsewhere;
// the pages allow only their own script and style (CSP in dashboard.ts).

import { readFile } from 'node:fs/promises'

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)

const head = (title: string, extra = ''): string => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/admin/assets/style.css">
${extra}</head>`

/** The login form: the admin token, posted to /admin/login. */
export function loginPage(message: string | undefined): string {
  return `${head('Log in · edge router admin')}
<body class="login-body">
<main class="login">
  <div class="brand brand-large"><span class="logo" aria-hidden="true"></span>edge-router <span class="muted">admin</span></div>
  <form method="post" action="/admin/login" class="card login-card">
    <label for="token">Admin token</label>
    <input id="token" name="token" type="password" autocomplete="current-password" required autofocus placeholder="ADMIN_TOKEN">
    ${message !== undefined ? `<p class="error" role="alert">${escapeHtml(message)}</p>` : ''}
    <button type="submit" class="primary">Log in</button>
    <p class="hint">The router's <code>ADMIN_TOKEN</code>. The session is kept in an HttpOnly cookie for /admin only.</p>
  </form>
</main>
</body>
</html>
`
}

/** The dashboard; `csrf` is the session's CSRF token (the page sends it with every POST). */
export function dashboardPage(csrf: string): string {
  const token = escapeHtml(csrf)
  return `${head('Edge router admin', `<meta name="csrf-token" content="${token}">\n<script type="module" src="/admin/assets/app.js"></script>\n`)}
<body>
<header class="top">
  <div class="brand"><span class="logo" aria-hidden="true"></span>edge-router <span class="muted">admin</span></div>
  <div class="router-meta" id="router-meta"></div>
  <div class="live" title="The view refreshes every second"><span class="dot" id="live-dot"></span><span id="updated">connecting…</span></div>
  <form method="post" action="/admin/logout"><input type="hidden" name="csrf" value="${token}"><button type="submit" class="ghost">Log out</button></form>
</header>
<main>
  <section class="cards">
    <div class="card stat"><div class="label">Requests / s</div><div class="value" id="stat-rps">–</div></div>
    <div class="card stat"><div class="label">5xx / s</div><div class="value" id="stat-errors">–</div></div>
    <div class="card stat"><div class="label">WebSockets open</div><div class="value" id="stat-ws">–</div></div>
    <div class="card stat"><div class="label">Upstream conns busy · idle · queued</div><div class="value" id="stat-upstream">–</div></div>
    <div class="card stat"><div class="label">Media nodes active · draining</div><div class="value" id="stat-nodes">–</div></div>
  </section>
  <section class="card">
    <h2>Media nodes</h2>
    <table id="nodes">
      <thead><tr><th>Node</th><th>Status</th><th>Health</th><th class="num">Connections</th><th class="num">In flight</th><th>Address</th><th>Admin port</th><th>Discovery</th><th></th></tr></thead>
      <tbody><tr class="empty"><td colspan="9">Loading…</td></tr></tbody>
    </table>
  </section>
  <section class="card">
    <h2>Blue/green apps</h2>
    <p class="hint" id="apps-actions"></p>
    <table id="apps">
      <thead><tr><th>Deployment</th><th>State</th><th class="num">Instances</th><th class="num">Healthy</th><th class="num">Usable</th><th class="num">In flight</th><th>Instances</th><th></th></tr></thead>
      <tbody><tr class="empty"><td colspan="8">Loading…</td></tr></tbody>
    </table>
  </section>
  <section class="card">
    <h2>Routes</h2>
    <table id="routes">
      <thead><tr><th>Route</th><th>Template</th><th class="num">Req/s</th><th class="num">5xx/s</th><th class="num">4xx/s</th><th class="num">5xx ratio</th><th class="num">WebSockets</th><th class="num">Requests</th><th class="num">Upstream errors</th><th class="num">Ejections</th></tr></thead>
      <tbody><tr class="empty"><td colspan="10">Loading…</td></tr></tbody>
    </table>
  </section>
  <section class="card">
    <h2>Deployments</h2>
    <p class="hint">The router discovers on demand: a deployment is listed once a request has asked for it (blue/green apps' deployments are looked up for the view above).</p>
    <table id="deployments">
      <thead><tr><th>Deployment</th><th class="num">Instances</th><th class="num">Usable</th><th class="num">In flight</th><th>Instances</th><th class="num">Answer age</th></tr></thead>
      <tbody><tr class="empty"><td colspan="6">Loading…</td></tr></tbody>
    </table>
  </section>
  <section class="card">
    <h2>Ejected endpoints</h2>
    <table id="ejected">
      <thead><tr><th>Endpoint</th><th class="num">Back in</th><th class="num">Ejections</th></tr></thead>
      <tbody><tr class="empty"><td colspan="3">Loading…</td></tr></tbody>
    </table>
  </section>
  <noscript><p class="card">The live view needs JavaScript; the same data is JSON at <code>/admin/api/state</code>.</p></noscript>
</main>
<div id="toast" role="status" aria-live="polite"></div>
</body>
</html>
`
}

export const STYLE_CSS = `:root {
  --bg: #f4f6f9; --panel: #ffffff; --ink: #1b2430; --muted: #6b7685; --line: #e3e7ee;
  --accent: #2f6fed; --ok: #1f9d55; --ok-bg: #e3f6ea; --warn: #b7791f; --warn-bg: #fdf2dc;
  --bad: #c53030; --bad-bg: #fde8e8; --idle: #718096; --idle-bg: #edf0f4; --top: #141b26;
  font-family: ui-sans-serif, system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-size: 14px; color: var(--ink); background: var(--bg);
}
* { box-sizing: border-box; }
body { margin: 0; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; background: var(--idle-bg); padding: 1px 4px; border-radius: 4px; }
.top { display: flex; align-items: center; gap: 20px; padding: 12px 24px; background: var(--top); color: #e8edf5; position: sticky; top: 0; z-index: 1; }
.top form { margin: 0 0 0 auto; }
.brand { font-weight: 650; font-size: 16px; letter-spacing: .2px; display: flex; align-items: center; gap: 8px; }
.brand .muted { color: #8a96a8; font-weight: 500; }
.brand-large { font-size: 22px; justify-content: center; margin-bottom: 18px; }
.logo { width: 14px; height: 14px; border-radius: 3px; background: linear-gradient(135deg, #4f8cff, #33c48d); display: inline-block; transform: rotate(45deg); }
.router-meta { color: #aab4c3; font-size: 12px; display: flex; gap: 14px; flex-wrap: wrap; }
.router-meta b { color: #e8edf5; font-weight: 600; }
.live { display: flex; align-items: center; gap: 6px; color: #aab4c3; font-size: 12px; font-variant-numeric: tabular-nums; }
.dot { width: 8px; height: 8px; border-radius: 50%; background: var(--idle); }
.dot.on { background: #33c48d; box-shadow: 0 0 0 3px rgba(51,196,141,.25); }
.dot.off { background: var(--bad); }
main { padding: 20px 24px 40px; display: grid; gap: 16px; max-width: 1400px; margin: 0 auto; }
.card { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 16px 18px; box-shadow: 0 1px 2px rgba(20,27,38,.04); }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(180px, 1fr)); gap: 16px; }
.stat .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .5px; }
.stat .value { font-size: 26px; font-weight: 650; margin-top: 6px; font-variant-numeric: tabular-nums; }
h2 { font-size: 15px; margin: 0 0 12px; }
.hint { color: var(--muted); font-size: 12px; margin: -6px 0 10px; }
table { width: 100%; border-collapse: collapse; font-variant-numeric: tabular-nums; }
th { text-align: left; color: var(--muted); font-weight: 600; font-size: 12px; text-transform: uppercase; letter-spacing: .4px; padding: 8px 10px; border-bottom: 1px solid var(--line); }
td { padding: 9px 10px; border-bottom: 1px solid var(--line); vertical-align: middle; }
tr:last-child td { border-bottom: none; }
tbody tr:hover td { background: #fafbfd; }
.num { text-align: right; }
tr.empty td { color: var(--muted); text-align: center; padding: 18px; }
.mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12px; }
.muted { color: var(--muted); }
.badge { display: inline-block; padding: 2px 8px; border-radius: 999px; font-size: 11px; font-weight: 700; letter-spacing: .4px; }
.badge-active, .badge-healthy { color: var(--ok); background: var(--ok-bg); }
.badge-current { color: #fff; background: var(--ok); }
.badge-draining, .badge-starting, .badge-stale, .badge-switching { color: var(--warn); background: var(--warn-bg); }
.badge-unhealthy, .badge-ejected, .badge-noanswer, .badge-gone, .badge-notfound, .badge-error { color: var(--bad); background: var(--bad-bg); }
.badge-unknown, .badge-none, .badge-known, .badge-drained, .badge-noregistry { color: var(--idle); background: var(--idle-bg); }
tr.app-head td { background: var(--bg); border-top: 1px solid var(--line); font-size: 13px; }
tbody tr.app-head:hover td { background: var(--bg); }
#apps-actions.off { color: var(--warn); }
#apps td.num, #apps td.nowrap, .nowrap, .chip { white-space: nowrap; }
.buttons { display: inline-flex; gap: 6px; }
button { white-space: nowrap; }
button.switch { color: var(--accent); border-color: #b9cdf7; }
button.switch.confirm { background: var(--accent); border-color: var(--accent); color: #fff; }
button.drain-deployment { color: var(--warn); border-color: #efd29b; }
button.drain-deployment.confirm { background: var(--warn); border-color: var(--warn); color: #fff; }
.chips { display: flex; flex-wrap: wrap; gap: 6px; }
.chip { border: 1px solid var(--line); border-radius: 6px; padding: 2px 6px; font-size: 12px; display: inline-flex; gap: 6px; align-items: center; }
button { font: inherit; border-radius: 6px; padding: 6px 12px; cursor: pointer; border: 1px solid var(--line); background: var(--panel); color: var(--ink); }
button:disabled { opacity: .45; cursor: not-allowed; }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; font-weight: 600; }
button.ghost { background: transparent; color: #e8edf5; border-color: #3a4556; }
button.drain { color: var(--warn); border-color: #efd29b; }
button.drain.confirm { background: var(--warn); border-color: var(--warn); color: #fff; }
#toast { position: fixed; right: 24px; bottom: 24px; max-width: 420px; padding: 10px 14px; border-radius: 8px; background: var(--top); color: #fff; opacity: 0; transform: translateY(8px); transition: opacity .15s, transform .15s; pointer-events: none; }
#toast.show { opacity: 1; transform: none; }
#toast.bad { background: var(--bad); }
.login-body { min-height: 100vh; display: grid; place-items: center; background: var(--top); }
.login { width: 360px; }
.login .brand { color: #e8edf5; }
.login-card { display: grid; gap: 10px; padding: 22px; }
.login-card label { font-weight: 600; }
.login-card input { font: inherit; padding: 9px 10px; border: 1px solid var(--line); border-radius: 6px; }
.login-card input:focus { outline: 2px solid var(--accent); outline-offset: -1px; }
.login-card .hint { margin: 0; }
.error { color: var(--bad); margin: 0; }
`

let script: Promise<string> | undefined

/** The compiled page script, read once. */
export function appScript(): Promise<string> {
  script ??= readFile(scriptUrl(), 'utf8').catch((err: unknown) => {
    script = undefined
    throw err
  })
  return script
}

/**
 * Where the compiled script is: next to this module under dist/, or, when
 * this module runs from its TypeScript source (tests through tsx), at the
 * same place under dist/ (`npm test` builds first).
 */
function scriptUrl(): URL {
  const here = import.meta.url
  const compiled = here.endsWith('.ts') ? here.replace(/\/router\/src\/admin\/assets\.ts$/, '/dist/router/src/admin/assets.js') : here
  return new URL('./ui/app.js', compiled)
}
