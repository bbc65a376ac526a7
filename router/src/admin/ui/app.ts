// The admin dashboard page's script (runs in the browser; compiled on its own
// with DOM types, see tsconfig.json here). It polls GET /admin/api/state every
// second, renders the tables with DOM calls (never HTML strings, so nothing a
// node or deployment name holds can inject markup), and posts the actions
// (drain a node; make a blue/green deployment current, drain it) with the
// session's CSRF token. A 401 sends the browser back to the login form.

export {}

const POLL_MS = 1000

type Json = null | boolean | number | string | Json[] | { [k: string]: Json }
type Obj = { [k: string]: Json }

const isObj = (v: Json | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)
const arr = (v: Json | undefined): Json[] => (Array.isArray(v) ? v : [])
const str = (v: Json | undefined, d = ''): string => (typeof v === 'string' ? v : d)
const num = (v: Json | undefined): number | null => (typeof v === 'number' ? v : null)
const bool = (v: Json | undefined): boolean => v === true

const csrf = document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content ?? ''

function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: { class?: string; text?: string; title?: string; data?: Record<string, string> } = {}, children: Array<Node | string> = []): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag)
  if (props.class !== undefined) e.className = props.class
  if (props.text !== undefined) e.textContent = props.text
  if (props.title !== undefined) e.title = props.title
  for (const [k, v] of Object.entries(props.data ?? {})) e.dataset[k] = v
  for (const c of children) e.append(c)
  return e
}

function badge(text: string, title?: string): HTMLSpanElement {
  const cls = text.toLowerCase().replace(/[^a-z]/g, '')
  return el('span', { class: `badge badge-${cls === '' ? 'unknown' : cls}`, text, ...(title !== undefined ? { title } : {}) })
}

function td(content: Node | string, cls?: string): HTMLTableCellElement {
  const c = el('td', cls !== undefined ? { class: cls } : {})
  c.append(content)
  return c
}

const fmt = (n: number | null, digits = 1): string => (n === null ? '–' : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: n !== 0 && Math.abs(n) < 10 ? Math.min(digits, 1) : 0 }))
const pct = (n: number | null): string => (n === null ? '–' : `${(n * 100).toFixed(n < 0.01 && n > 0 ? 2 : 1)} %`)
const ms = (n: number | null): string => (n === null ? '–' : n < 1000 ? `${Math.round(n)} ms` : `${(n / 1000).toFixed(1)} s`)

function setText(id: string, text: string): void {
  const e = document.getElementById(id)
  if (e !== null && e.textContent !== text) e.textContent = text
}

function fill(tableId: string, rows: HTMLTableRowElement[], empty: string): void {
  const body = document.querySelector(`#${tableId} tbody`)
  if (body === null) return
  const cols = document.querySelectorAll(`#${tableId} thead th`).length
  if (rows.length === 0) rows = [el('tr', { class: 'empty' }, [el('td', { text: empty })])]
  const first = rows[0]?.firstElementChild
  if (rows.length === 1 && first instanceof HTMLTableCellElement && rows[0]?.classList.contains('empty')) first.colSpan = cols
  body.replaceChildren(...rows)
}

/** Nodes whose Drain button was clicked once and waits for the confirming click, with when it expires. */
const confirming = new Map<string, number>()

function renderNodes(state: Obj): void {
  const nodes = arr(state.nodes).filter(isObj)
  const drainEnabled = isObj(state.actions) && bool(state.actions.drain)
  let active = 0
  let draining = 0
  const rows = nodes.map((n) => {
    const id = str(n.id)
    const status = str(n.status, 'UNKNOWN')
    if (status === 'ACTIVE') active++
    if (status === 'DRAINING') draining++
    const source = str(n.statusSource)
    const discovery = bool(n.inDiscovery) ? (n.discoveryStatus === null ? 'listed' : `listed · ${str(n.discoveryStatus)}`) : 'gone from discovery'
    const btn = el('button', { class: 'drain', text: 'Drain', data: { node: id } })
    btn.type = 'button'
    const waiting = (confirming.get(id) ?? 0) > Date.now()
    if (waiting) {
      btn.classList.add('confirm')
      btn.textContent = `Confirm drain ${id}`
    }
    btn.disabled = !bool(n.drainable) || status === 'DRAINING'
    btn.title = !drainEnabled
      ? 'MEDIA_ADMIN_TOKEN is not set on the router'
      : n.adminPort === null
        ? 'The node advertises no admin_port attribute (DNS discovery carries no attributes)'
        : status === 'DRAINING'
          ? 'Already draining'
          : 'Stop new sessions on this node; open ones stay until they close'
    btn.addEventListener('click', () => void onDrain(id))
    const health = n.health === null ? badge('—', 'Discovery carries no health here') : badge(str(n.health))
    const statusCell = el('td')
    statusCell.append(badge(status, source === 'node' ? 'As the node says on /status' : source === 'discovery' ? 'From the status attribute in discovery' : 'The node did not answer /status'))
    if (bool(n.ejected)) statusCell.append(' ', badge('EJECTED'))
    if (!bool(n.answering)) statusCell.append(' ', badge('NO ANSWER', 'The node did not answer GET /status'))
    return el('tr', { data: { node: id, status } }, [
      td(el('span', { class: 'mono', text: id })),
      statusCell,
      td(health),
      td(fmt(num(n.connections), 0), 'num'),
      td(fmt(num(n.inFlight), 0), 'num'),
      td(el('span', { class: 'mono muted', text: str(n.address) })),
      td(el('span', { class: 'mono muted', text: n.adminPort === null ? '—' : String(num(n.adminPort)) })),
      td(el('span', { class: bool(n.inDiscovery) ? 'muted' : 'badge badge-gone', text: discovery })),
      td(btn, 'num'),
    ])
  })
  fill('nodes', rows, 'No media nodes discovered.')
  setText('stat-nodes', `${active} · ${draining}`)
}

/** Deployment buttons armed by a first click (key `<verb>|<app>|<id>`), with when they expire. */
const armed = new Map<string, number>()
/** Switches the registry accepted that discovery has not shown yet: app → the new current deployment. */
const pending = new Map<string, { to: string; until: number }>()

function deadlineText(iso: string, drained: boolean): string {
  const at = Date.parse(iso)
  if (Number.isNaN(at)) return iso
  const time = new Date(at).toLocaleTimeString()
  if (drained) return `drained ${time}`
  const mins = Math.max(0, Math.round((at - Date.now()) / 60_000))
  return `until ${time} (${mins < 1 ? '< 1' : mins} min)`
}

function deploymentButton(verb: 'switch' | 'drain', app: string, id: string, label: string, disabledWhy: string | null, title: string): HTMLButtonElement {
  const key = `${verb}|${app}|${id}`
  const b = el('button', { class: verb === 'switch' ? 'switch' : 'drain-deployment', text: label, data: { app, deployment: id } })
  b.type = 'button'
  if ((armed.get(key) ?? 0) > Date.now()) {
    b.classList.add('confirm')
    b.textContent = `Confirm: ${label.toLowerCase()}`
  }
  b.disabled = disabledWhy !== null
  b.title = disabledWhy ?? title
  b.addEventListener('click', () => void onDeploymentAction(verb, app, id, label))
  return b
}

function renderApps(state: Obj): void {
  const actions = isObj(state.actions) ? state.actions : {}
  const enabled = bool(actions.deployments)
  const off = enabled ? null : str(actions.deploymentsDisabled, 'deployment actions are off')
  const note = document.getElementById('apps-actions')
  if (note !== null) {
    note.textContent = off === null ? 'Make current: new visitors go to that deployment once the routers see the switch (discovery refresh). Drain: no new visitors; holders keep it until the deadline (15 min).' : `Actions off: ${off}.`
    note.classList.toggle('off', off !== null)
  }
  const rows: HTMLTableRowElement[] = []
  for (const a of arr(state.apps).filter(isObj)) {
    const app = str(a.app)
    const current = a.current === null ? '' : str(a.current)
    const wait = pending.get(app)
    if (wait !== undefined && (wait.to === current || wait.until < Date.now())) pending.delete(app)
    const head = el('td', { class: 'app-head-cell' })
    head.colSpan = 8
    head.append(el('b', { class: 'mono', text: app }), el('span', { class: 'muted', text: ` · routes ${arr(a.routes).map((r) => str(r)).join(', ')} · registry ${str(a.registry)}` }))
    const status = str(a.registryStatus)
    if (status === 'missing') head.append(' ', badge('NO REGISTRY', 'Nothing switched yet: npm run deployments -- switch <app> <deployment>'))
    else if (status === 'error') head.append(' ', badge('ERROR', str(a.registryError)))
    if (bool(a.registryStale)) head.append(' ', badge('STALE', 'Discovery is failing; this is the last good answer'))
    head.append(el('span', { class: 'muted', text: ' · current ' }), el('b', { class: 'mono app-current', text: current === '' ? '(none)' : current }))
    if (pending.has(app)) head.append(' ', badge('SWITCHING', `Registry written: ${pending.get(app)?.to ?? ''} becomes current once discovery refreshes`), el('span', { class: 'mono muted', text: ` → ${pending.get(app)?.to ?? ''}` }))
    head.append(el('span', { class: 'muted', text: `  · answer ${ms(num(a.registryAgeMs))} old` }))
    rows.push(el('tr', { class: 'app-head', data: { app, current } }, [head]))
    const deps = arr(a.deployments).filter(isObj)
    if (deps.length === 0) rows.push(el('tr', { class: 'empty' }, [(() => {
      const c = el('td', { text: status === 'ok' ? 'The registry lists no deployment.' : 'No deployments known.' })
      c.colSpan = 8
      return c
    })()]))
    for (const d of deps) {
      const id = str(d.id)
      const isCurrent = bool(d.current)
      const drainDeadline = d.drainDeadline === null ? null : str(d.drainDeadline)
      const drained = bool(d.drained)
      const stateCell = el('td')
      if (isCurrent) stateCell.append(badge('CURRENT', 'New visitors go here'))
      else if (drainDeadline !== null) stateCell.append(badge(drained ? 'DRAINED' : 'DRAINING', drained ? 'Past its deadline: holders were moved to current' : 'Holders of its cookie keep it until the deadline'), ' ', el('span', { class: 'muted nowrap', text: deadlineText(drainDeadline, drained) }))
      else stateCell.append(badge('KNOWN', 'Affinity holders of its cookie stay on it'))
      if (bool(d.notFound)) stateCell.append(' ', badge('NOTFOUND', 'Discovery says this deployment does not exist'))
      if (d.error !== null && d.error !== undefined) stateCell.append(' ', badge('ERROR', str(d.error)))
      if (bool(d.stale)) stateCell.append(' ', badge('STALE', 'Discovery is failing; this is the last good answer'))
      // Each instance with its state (DRAINING, UNHEALTHY, EJECTED: what the counts add up); the answer's age in the title.
      const chips = el('div', { class: 'chips', title: `discovery answer ${ms(num(d.ageMs))} old` })
      for (const e of arr(d.endpoints).filter(isObj)) {
        chips.append(el('span', { class: 'chip', title: `${str(e.address)} · ${num(e.inFlight) ?? 0} in flight` }, [el('span', { class: 'mono', text: str(e.id) }), badge(bool(e.ejected) ? 'EJECTED' : e.health === 'UNHEALTHY' ? 'UNHEALTHY' : str(e.status, 'ACTIVE'))]))
      }
      const switchWhy = off ?? (isCurrent ? 'Already the current deployment' : pending.has(app) ? 'A switch is on its way' : null)
      const drainWhy = off ?? (isCurrent ? 'The current deployment cannot be drained: make another one current first' : drainDeadline !== null && !drained ? 'Already draining' : null)
      const buttons = el('div', { class: 'buttons' }, [
        deploymentButton('switch', app, id, 'Make current', switchWhy, `Make ${id} the current deployment of ${app}: new visitors go there`),
        deploymentButton('drain', app, id, 'Drain', drainWhy, `Drain ${id}: no new visitors; cookie holders keep it for 15 minutes, then move to current`),
      ])
      rows.push(
        el('tr', { class: 'app-deployment', data: { app, deployment: id, current: isCurrent ? 'true' : 'false', state: isCurrent ? 'CURRENT' : drainDeadline === null ? 'KNOWN' : drained ? 'DRAINED' : 'DRAINING' } }, [
          td(el('span', { class: 'mono', text: id }), 'nowrap'),
          stateCell,
          td(fmt(num(d.instances), 0), 'num'),
          td(fmt(num(d.healthy), 0), 'num'),
          td(fmt(num(d.usable), 0), 'num'),
          td(fmt(num(d.inFlight), 0), 'num'),
          td(chips),
          td(buttons, 'num'),
        ]),
      )
    }
  }
  fill('apps', rows, 'No route with affinity in the route table (ROUTES_FILE, "affinity": true).')
}

async function onDeploymentAction(verb: 'switch' | 'drain', app: string, id: string, label: string): Promise<void> {
  const key = `${verb}|${app}|${id}`
  if ((armed.get(key) ?? 0) <= Date.now()) {
    // First click arms the button; the second (within 5 s) acts.
    armed.set(key, Date.now() + 5000)
    const b = document.querySelector<HTMLButtonElement>(`#apps tr[data-app="${CSS.escape(app)}"][data-deployment="${CSS.escape(id)}"] button.${verb === 'switch' ? 'switch' : 'drain-deployment'}`)
    if (b !== null) {
      b.classList.add('confirm')
      b.textContent = `Confirm: ${label.toLowerCase()}`
    }
    return
  }
  armed.delete(key)
  try {
    const r = await fetch(`/admin/api/apps/${encodeURIComponent(app)}/deployments/${encodeURIComponent(id)}/${verb}`, { method: 'POST', headers: { 'x-csrf-token': csrf }, credentials: 'same-origin' })
    const body = (await r.json().catch(() => null)) as Json
    if (r.ok && isObj(body)) {
      if (verb === 'switch') {
        pending.set(app, { to: str(body.current), until: Date.now() + 60_000 })
        toast(`${app}: current ${body.previous === null ? '(none)' : str(body.previous)} → ${str(body.current)}; routers follow within their discovery refresh`)
      } else {
        toast(`${app}: ${id} draining until ${new Date(str(body.deadline)).toLocaleTimeString()} · ${num(body.instances) ?? 0} instance(s) marked DRAINING`)
      }
    } else toast(`${app} ${id}: ${isObj(body) ? `${str(body.code)} ${str(body.error)}` : `HTTP ${r.status}`}`, true)
  } catch (err) {
    toast(`${app} ${id}: ${err instanceof Error ? err.message : String(err)}`, true)
  }
  await poll()
}

function renderRoutes(state: Obj): void {
  const rows = arr(state.routes).filter(isObj).map((r) => {
    const t = isObj(r.template) ? r.template : null
    // Whatever the route table says (GET /admin/routes): host, format (or prefix), what it reaches.
    const parts = t === null ? [] : [str(t.host), str(t.format) || str(t.prefix), typeof t.reaches === 'string' && t.reaches !== '' ? `→ ${t.reaches}` : '']
    const desc = t === null ? 'not a route (e.g. no route matched)' : parts.filter((p) => p !== '').join('  ') || JSON.stringify(t)
    return el('tr', { data: { route: str(r.name) } }, [
      td(el('b', { text: str(r.name) })),
      td(el('span', { class: 'mono muted', text: desc, title: t === null ? '' : JSON.stringify(t) })),
      td(fmt(num(r.requestRate)), 'num'),
      td(fmt(num(r.errorRate)), 'num'),
      td(fmt(num(r.clientErrorRate)), 'num'),
      td(pct(num(r.errorRatio)), 'num'),
      td(fmt(num(r.websocketsActive), 0), 'num'),
      td(fmt(num(r.requests), 0), 'num'),
      td(fmt(num(r.upstreamErrors), 0), 'num'),
      td(fmt(num(r.ejections), 0), 'num'),
    ])
  })
  fill('routes', rows, 'No routes.')
}

function renderDeployments(state: Obj): void {
  const rows = arr(state.deployments).filter(isObj).map((d) => {
    const chips = el('div', { class: 'chips' })
    for (const e of arr(d.endpoints).filter(isObj)) {
      const chip = el('span', { class: 'chip', title: `${str(e.address)} · ${num(e.inFlight) ?? 0} in flight` }, [el('span', { class: 'mono', text: str(e.id) }), badge(bool(e.ejected) ? 'EJECTED' : e.health === 'UNHEALTHY' ? 'UNHEALTHY' : str(e.status, 'ACTIVE'))])
      chips.append(chip)
    }
    if (bool(d.notFound)) chips.append(badge('NOTFOUND', 'Discovery says this deployment does not exist'))
    if (bool(d.stale)) chips.append(badge('STALE', 'Discovery is failing; this is the last good answer'))
    let inFlight = 0
    for (const e of arr(d.endpoints).filter(isObj)) inFlight += num(e.inFlight) ?? 0
    return el('tr', { data: { deployment: str(d.id) } }, [
      td(el('b', { class: 'mono', text: str(d.id) })),
      td(fmt(num(d.instances), 0), 'num'),
      td(fmt(num(d.healthy), 0), 'num'),
      td(fmt(inFlight, 0), 'num'),
      td(chips),
      td(ms(num(d.ageMs)), 'num'),
    ])
  })
  fill('deployments', rows, 'No deployment asked for yet.')
}

function renderEjected(state: Obj): void {
  const rows = arr(state.ejected).filter(isObj).map((e) => el('tr', {}, [td(el('span', { class: 'mono', text: str(e.endpoint) })), td(ms(num(e.untilMs)), 'num'), td(fmt(num(e.ejections), 0), 'num')]))
  fill('ejected', rows, 'None: every endpoint is in balancing.')
}

function renderTotals(state: Obj): void {
  const t = isObj(state.totals) ? state.totals : {}
  setText('stat-rps', fmt(num(t.requestRate)))
  setText('stat-errors', fmt(num(t.errorRate)))
  setText('stat-ws', fmt(num(t.websocketsActive), 0))
  const u = isObj(t.upstream) ? t.upstream : {}
  setText('stat-upstream', `${fmt(num(u.busy), 0)} · ${fmt(num(u.idle), 0)} · ${fmt(num(u.queued), 0)}`)
  const meta = document.getElementById('router-meta')
  const r = isObj(state.router) ? state.router : null
  if (meta !== null && r !== null) {
    const items: Array<[string, string]> = [
      ['namespace', str(r.namespace)],
      ['discovery', str(r.discovery)],
      ['balancer', str(r.balancer)],
      ['processes', String(num(state.processes) ?? 1)],
      ['serving', bool(r.serving) ? 'yes' : 'draining'],
    ]
    meta.replaceChildren(...items.map(([k, v]) => el('span', {}, [`${k} `, el('b', { text: v })])))
  }
}

let lastOk = 0

async function poll(): Promise<void> {
  try {
    const r = await fetch('/admin/api/state', { headers: { accept: 'application/json' }, cache: 'no-store', credentials: 'same-origin' })
    if (r.status === 401) {
      window.location.assign('/admin/login')
      return
    }
    if (!r.ok) throw new Error(`state: HTTP ${r.status}`)
    const state = (await r.json()) as Json
    if (!isObj(state)) throw new Error('state: not an object')
    renderTotals(state)
    renderNodes(state)
    renderApps(state)
    renderRoutes(state)
    renderDeployments(state)
    renderEjected(state)
    lastOk = Date.now()
    document.getElementById('live-dot')?.classList.replace('off', 'on') || document.getElementById('live-dot')?.classList.add('on')
    setText('updated', `updated ${new Date().toLocaleTimeString()}`)
  } catch (err) {
    document.getElementById('live-dot')?.classList.remove('on')
    document.getElementById('live-dot')?.classList.add('off')
    setText('updated', `no answer since ${lastOk === 0 ? 'start' : new Date(lastOk).toLocaleTimeString()} (${err instanceof Error ? err.message : String(err)})`)
  }
}

let toastTimer: number | undefined

function toast(text: string, bad = false): void {
  const t = document.getElementById('toast')
  if (t === null) return
  t.textContent = text
  t.classList.toggle('bad', bad)
  t.classList.add('show')
  if (toastTimer !== undefined) window.clearTimeout(toastTimer)
  toastTimer = window.setTimeout(() => t.classList.remove('show'), 5000)
}

async function onDrain(id: string): Promise<void> {
  const until = confirming.get(id) ?? 0
  if (until <= Date.now()) {
    // First click arms the button; the second (within 5 s) drains.
    confirming.set(id, Date.now() + 5000)
    const b = document.querySelector<HTMLButtonElement>(`#nodes tr[data-node="${CSS.escape(id)}"] button.drain`)
    if (b !== null) {
      b.classList.add('confirm')
      b.textContent = `Confirm drain ${id}`
    }
    return
  }
  confirming.delete(id)
  try {
    const r = await fetch(`/admin/api/nodes/${encodeURIComponent(id)}/drain`, { method: 'POST', headers: { 'x-csrf-token': csrf }, credentials: 'same-origin' })
    const body = (await r.json().catch(() => null)) as Json
    if (r.ok && isObj(body)) toast(`${id}: ${str(body.status, 'drain requested')}${num(body.activeConnections) !== null ? ` · ${num(body.activeConnections)} open connection(s) stay until they close` : ''}`)
    else toast(`${id}: ${isObj(body) ? `${str(body.code)} ${str(body.error)}` : `HTTP ${r.status}`}`, true)
  } catch (err) {
    toast(`${id}: ${err instanceof Error ? err.message : String(err)}`, true)
  }
  await poll()
}

async function loop(): Promise<void> {
  await poll()
  window.setTimeout(() => void loop(), POLL_MS)
}

void loop()
