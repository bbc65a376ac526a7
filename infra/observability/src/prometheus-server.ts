// A real Prometheus server (Debian's /usr/bin/prometheus) for tests and local
// drills: a generated configuration scraping given targets, its own temporary
// storage, a free port on 127.0.0.1, and a typed client for the parts of the
// HTTP API the checks use (/api/v1/query, /api/v1/targets, /api/v1/rules,
// /api/v1/label/<name>/values). Waits poll the API with a deadline; nothing
// sleeps a fixed time.

import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface ScrapeJob {
  readonly job: string
  /** host:port of each target; scraped at GET /metrics. */
  readonly targets: readonly string[]
}

export interface PrometheusOptions {
  readonly jobs: readonly ScrapeJob[]
  readonly scrapeIntervalSeconds: number
  /** Absolute paths of rule files to load (alerting rules are evaluated every scrape interval). */
  readonly ruleFiles?: readonly string[]
  /** Default: `prometheus` on PATH. */
  readonly binary?: string
}

/** One series of an instant query's vector result. */
export interface Sample {
  readonly metric: Readonly<Record<string, string>>
  readonly value: string
}

export interface QueryResult {
  readonly resultType: string
  /** Vector and matrix results as series; a scalar or string as one series without labels. */
  readonly series: readonly Sample[]
}

export interface TargetHealth {
  readonly job: string
  readonly instance: string
  readonly health: string
  readonly lastError: string
}

export interface RuleHealth {
  readonly name: string
  readonly type: string
  readonly health: string
  readonly lastError: string
}

type Json = Record<string, unknown>

function obj(v: unknown, what: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`Prometheus API: ${what} is not an object`)
  return v as Json
}

function arr(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw new Error(`Prometheus API: ${what} is not an array`)
  return v
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : ''
}

function labels(v: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, x] of Object.entries(obj(v, 'labels'))) if (typeof x === 'string') out[k] = x
  return out
}

/** The configuration file text for `opts` (YAML; JSON strings are valid YAML scalars). */
export function prometheusConfig(opts: PrometheusOptions): string {
  const q = (s: string): string => JSON.stringify(s)
  const lines = [
    'global:',
    `  scrape_interval: ${opts.scrapeIntervalSeconds}s`,
    `  scrape_timeout: ${opts.scrapeIntervalSeconds}s`,
    `  evaluation_interval: ${opts.scrapeIntervalSeconds}s`,
  ]
  if (opts.ruleFiles !== undefined && opts.ruleFiles.length > 0) {
    lines.push('rule_files:')
    for (const f of opts.ruleFiles) lines.push(`  - ${q(f)}`)
  }
  lines.push('scrape_configs:')
  for (const job of opts.jobs) {
    lines.push(`  - job_name: ${q(job.job)}`, '    metrics_path: /metrics', '    static_configs:', `      - targets: [${job.targets.map(q).join(', ')}]`)
  }
  return `${lines.join('\n')}\n`
}

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const a = s.address()
      const port = a !== null && typeof a === 'object' ? a.port : 0
      s.close(() => resolve(port))
    })
  })
}

/** Polls `fn` until it returns a value other than undefined, or throws with `what` and the last state after `timeoutMs`. */
export async function pollUntil<T>(what: string, timeoutMs: number, fn: () => Promise<T | undefined>, stepMs = 250): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const v = await fn()
      if (v !== undefined) return v
    } catch (err) {
      last = err
    }
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last !== undefined ? `: ${String(last)}` : ''}`)
    await new Promise((r) => setTimeout(r, stepMs))
  }
}

export class PrometheusServer {
  readonly url: string
  readonly #child: ChildProcess
  readonly #dir: string
  #stderr = ''
  #exited: { code: number | null; signal: NodeJS.Signals | null } | undefined

  private constructor(url: string, child: ChildProcess, dir: string) {
    this.url = url
    this.#child = child
    this.#dir = dir
    child.stderr?.setEncoding('utf8')
    // Keep the last 16 KiB of its log for error messages.
    child.stderr?.on('data', (d: string) => {
      this.#stderr = (this.#stderr + d).slice(-16_384)
    })
    child.stdout?.resume()
    child.once('exit', (code, signal) => {
      this.#exited = { code, signal }
    })
  }

  /** Starts Prometheus on a free port and resolves once /-/ready answers 200. */
  static async start(opts: PrometheusOptions, readyTimeoutMs = 30_000): Promise<PrometheusServer> {
    const dir = mkdtempSync(join(tmpdir(), 'prometheus-'))
    const configFile = join(dir, 'prometheus.yml')
    writeFileSync(configFile, prometheusConfig(opts))
    const port = await freePort()
    const child = spawn(
      opts.binary ?? 'prometheus',
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--storage.tsdb.retention.time=1h',
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    const server = new PrometheusServer(`http://127.0.0.1:${port}`, child, dir)
    try {
      await pollUntil('Prometheus /-/ready', readyTimeoutMs, async () => {
        if (server.#exited !== undefined) throw new Error(`prometheus exited (${String(server.#exited.code ?? server.#exited.signal)}): ${server.#stderr}`)
        const r = await fetch(`${server.url}/-/ready`, { signal: AbortSignal.timeout(2000) })
        await r.arrayBuffer()
        return r.status === 200 ? true : undefined
      })
    } catch (err) {
      await server.close()
      throw err
    }
    return server
  }

  /** What Prometheus logged (the last 16 KiB), for failure messages. */
  get log(): string {
    return this.#stderr
  }

  async #get(path: string, params: Record<string, string | readonly string[]> = {}): Promise<unknown> {
    const u = new URL(path, this.url)
    for (const [k, v] of Object.entries(params)) for (const x of typeof v === 'string' ? [v] : v) u.searchParams.append(k, x)
    const r = await fetch(u, { signal: AbortSignal.timeout(10_000) })
    const body = obj(await r.json(), `${path} body`)
    if (body.status !== 'success') throw new Error(`Prometheus ${path} ${JSON.stringify(params)}: ${str(body.errorType)}: ${str(body.error)}`)
    return body.data
  }

  /** Instant query at "now" (GET /api/v1/query). Rejects on a PromQL error. */
  async query(expr: string): Promise<QueryResult> {
    const data = obj(await this.#get('/api/v1/query', { query: expr }), 'query data')
    const resultType = str(data.resultType)
    if (resultType === 'scalar' || resultType === 'string') {
      const v = arr(data.result, 'result')
      return { resultType, series: [{ metric: {}, value: String(v[1]) }] }
    }
    const series = arr(data.result, 'result').map((x) => {
      const s = obj(x, 'series')
      const value = Array.isArray(s.value) ? String(s.value[1]) : Array.isArray(s.values) ? `${s.values.length} points` : ''
      return { metric: labels(s.metric), value }
    })
    return { resultType, series }
  }

  /** Active scrape targets and their health (GET /api/v1/targets). */
  async targets(): Promise<TargetHealth[]> {
    const data = obj(await this.#get('/api/v1/targets', { state: 'active' }), 'targets data')
    return arr(data.activeTargets, 'activeTargets').map((x) => {
      const t = obj(x, 'target')
      const l = labels(t.labels)
      return { job: l.job ?? '', instance: l.instance ?? '', health: str(t.health), lastError: str(t.lastError) }
    })
  }

  /** Loaded rules and their evaluation health (GET /api/v1/rules). */
  async rules(): Promise<RuleHealth[]> {
    const data = obj(await this.#get('/api/v1/rules'), 'rules data')
    const out: RuleHealth[] = []
    for (const g of arr(data.groups, 'groups')) {
      for (const r of arr(obj(g, 'group').rules, 'rules')) {
        const rule = obj(r, 'rule')
        out.push({ name: str(rule.name), type: str(rule.type), health: str(rule.health), lastError: str(rule.lastError) })
      }
    }
    return out
  }

  /** Values of a label among series matching `match` (GET /api/v1/label/<name>/values): Grafana's label_values(). */
  async labelValues(label: string, match: string): Promise<string[]> {
    return arr(await this.#get(`/api/v1/label/${encodeURIComponent(label)}/values`, { 'match[]': match }), 'label values').map(str)
  }

  /** Stops Prometheus (SIGTERM, then SIGKILL after 10 s) and removes its storage. */
  async close(): Promise<void> {
    if (this.#exited === undefined) {
      const exited = new Promise<void>((r) => this.#child.once('exit', () => r()))
      this.#child.kill('SIGTERM')
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    }
    rmSync(this.#dir, { recursive: true, force: true })
  }
}
