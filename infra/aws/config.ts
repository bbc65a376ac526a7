// Environment configuration: turns untyped CDK context into a typed, validated
// EnvironmentConfig. Every error names the context key that is wrong, so a bad
// `-c key=value` or cdk.json entry fails synth with a message you can act on.
import { MAX_STOP_TIMEOUT_SECONDS, STOP_TIMEOUT_MARGIN_SECONDS, routerStopTimeoutSeconds } from './router-drain.js'

/** The environments this app knows; one stack per environment. */
export const ENVIRONMENT_NAMES = ['dev', 'stg', 'prod'] as const
export type EnvironmentName = (typeof ENVIRONMENT_NAMES)[number]

/** A per-deployment HTTP service that gets its own Cloud Map service `<id>`. */
export interface DeploymentConfig {
  /** Deployment id; also the Cloud Map service name (a DNS label). */
  readonly id: string
  /** Container image reference for the deployment. */
  readonly image: string
  /** Port the deployment's container listens on. */
  readonly containerPort: number
  /** Number of tasks. */
  readonly desiredCount: number
}

/** Everything one environment's stack needs, validated. */
export interface EnvironmentConfig {
  /** Environment name: dev, stg or prod. */
  readonly name: EnvironmentName
  /** Fixed AWS account id, or undefined for an environment-agnostic stack. */
  readonly account: string | undefined
  /** Fixed AWS region, or undefined for an environment-agnostic stack. */
  readonly region: string | undefined
  /** AZ names to use when account and region are fixed (no lookups are made). */
  readonly availabilityZones: readonly string[] | undefined
  /** ACM certificate ARN for the HTTPS listener. */
  readonly certificateArn: string
  /** Optional WAFv2 web ACL ARN to associate with the ALB. */
  readonly wafWebAclArn: string | undefined
  /** Optional e-mail address subscribed to the alarm topic. */
  readonly alarmEmail: string | undefined
  /** Cloud Map private DNS namespace name, e.g. `dev.edge.internal`. */
  readonly namespaceName: string
  /** VPC CIDR block. */
  readonly vpcCidr: string
  /** NAT gateways (1 is cheaper, 2 survives an AZ loss). */
  readonly natGateways: number
  /** EC2 instance type of the router capacity pool. */
  readonly routerInstanceType: string
  /** EC2 instance type of the workload (media nodes, deployments) pool. */
  readonly workloadInstanceType: string
  /** Router image reference. */
  readonly routerImage: string
  /** Media node image reference. */
  readonly mediaNodeImage: string
  /** Router task count bounds for CPU target tracking. */
  readonly routerMinTasks: number
  /** Upper bound of the router task count. */
  readonly routerMaxTasks: number
  /** Media node task count. */
  readonly mediaNodeTasks: number
  /** ALB idle timeout in seconds (1..4000); long so idle WebSockets survive. */
  readonly idleTimeoutSeconds: number
  /** Router drain: seconds /health answers 503 before the listener closes. */
  readonly drainDelaySeconds: number
  /** Router drain: seconds open connections get to finish after that. */
  readonly drainTimeoutSeconds: number
  /** CloudWatch Logs retention in days. */
  readonly logRetentionDays: number
  /** Per-deployment services to create (each gets its own Cloud Map service). */
  readonly deployments: readonly DeploymentConfig[]
  /** The routers' admin dashboard may switch and drain blue/green deployments (DEPLOYMENT_CONTROL and the IAM rights for it). */
  readonly routerDeploymentControl: boolean
}

/** Thrown for any invalid context value; the message names the context key. */
export class ContextError extends Error {
  readonly key: string
  constructor(key: string, message: string) {
    super(`context "${key}": ${message}`)
    this.name = 'ContextError'
    this.key = key
  }
}

/** Minimal view of a construct node: only context reads are needed. */
export interface ContextSource {
  tryGetContext(key: string): unknown
}

/** Defaults applied under any environment-specific values. */
const BASE_DEFAULTS = {
  vpcCidr: '10.40.0.0/16',
  natGateways: 1,
  routerInstanceType: 't3.medium',
  workloadInstanceType: 'c6i.large',
  routerMinTasks: 2,
  routerMaxTasks: 20,
  mediaNodeTasks: 2,
  idleTimeoutSeconds: 4000,
  // 25 s: the ALB's health check (10 s × 2 + 5 s) must see /health 503 (edge.ts);
  // 25 + 30 (in-flight HTTP) + 55 + 10 = the 120 s stop timeout (router-drain.ts).
  drainDelaySeconds: 25,
  drainTimeoutSeconds: 55,
  logRetentionDays: 30,
} as const

/** Per-environment defaults: prod gets an AZ-redundant NAT and longer logs. */
const ENV_DEFAULTS: Record<EnvironmentName, Partial<Record<keyof typeof BASE_DEFAULTS, number | string>>> = {
  dev: { vpcCidr: '10.40.0.0/16', logRetentionDays: 14 },
  stg: { vpcCidr: '10.41.0.0/16' },
  prod: { vpcCidr: '10.42.0.0/16', natGateways: 2, logRetentionDays: 90, mediaNodeTasks: 4 },
}

const ACM_ARN = /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/[A-Za-z0-9-]+$/
const WAF_ARN = /^arn:aws[a-z-]*:wafv2:[a-z0-9-]+:\d{12}:regional\/webacl\/[A-Za-z0-9_-]+\/[A-Za-z0-9-]+$/
const ACCOUNT = /^\d{12}$/
const REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/
const DNS_NAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/
const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/
const INSTANCE_TYPE = /^[a-z][a-z0-9-]*\.[a-z0-9]+$/
/** A deployment id must be one DNS label: it becomes `<id>.<namespace>`. */
export const DEPLOYMENT_ID = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/

/** Parse the `env` context value into an EnvironmentName. */
export function parseEnvironmentName(value: unknown, key = 'env'): EnvironmentName {
  const name = ENVIRONMENT_NAMES.find((n) => n === value)
  if (name === undefined) throw new ContextError(key, `must be one of ${ENVIRONMENT_NAMES.join(', ')}; got ${JSON.stringify(value)}`)
  return name
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/** Reads a value: top-level override key first, then `environments.<env>.<field>`. */
class Reader {
  readonly #source: ContextSource
  readonly #env: EnvironmentName
  readonly #section: Record<string, unknown>

  constructor(source: ContextSource, env: EnvironmentName) {
    this.#source = source
    this.#env = env
    const all = source.tryGetContext('environments')
    if (all !== undefined && !isRecord(all)) throw new ContextError('environments', 'must be an object keyed by environment name')
    const section = all?.[env]
    if (section !== undefined && !isRecord(section)) throw new ContextError(`environments.${env}`, 'must be an object')
    this.#section = section ?? {}
  }

  /** Context key that a field was read from, for error messages. */
  keyOf(field: string): string {
    return this.#source.tryGetContext(field) !== undefined ? field : `environments.${this.#env}.${field}`
  }

  raw(field: string): unknown {
    const top = this.#source.tryGetContext(field)
    return top !== undefined ? top : this.#section[field]
  }

  optionalString(field: string, pattern?: RegExp, what?: string): string | undefined {
    const v = this.raw(field)
    if (v === undefined || v === '') return undefined
    if (typeof v !== 'string') throw new ContextError(this.keyOf(field), `must be a string; got ${JSON.stringify(v)}`)
    if (pattern && !pattern.test(v)) throw new ContextError(this.keyOf(field), `must be ${what ?? `a string matching ${pattern}`}; got ${JSON.stringify(v)}`)
    return v
  }

  string(field: string, fallback: string | undefined, pattern?: RegExp, what?: string): string {
    const v = this.optionalString(field, pattern, what) ?? fallback
    if (v === undefined) throw new ContextError(this.keyOf(field), `is required${what ? ` (${what})` : ''}`)
    if (pattern && !pattern.test(v)) throw new ContextError(this.keyOf(field), `must be ${what ?? `a string matching ${pattern}`}; got ${JSON.stringify(v)}`)
    return v
  }

  bool(field: string, fallback: boolean): boolean {
    const v = this.raw(field)
    if (v === undefined) return fallback
    // The CDK CLI passes `-c key=value` as a string.
    if (v === true || v === 'true') return true
    if (v === false || v === 'false') return false
    throw new ContextError(this.keyOf(field), `must be true or false; got ${JSON.stringify(v)}`)
  }

  int(field: string, fallback: number, min: number, max: number): number {
    const v = this.raw(field)
    // The CDK CLI passes `-c key=value` as a string; accept decimal strings too.
    const n = v === undefined ? fallback : typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
      throw new ContextError(this.keyOf(field), `must be an integer in [${min}, ${max}]; got ${JSON.stringify(v)}`)
    }
    return n
  }
}

function parseCidr(key: string, v: string): string {
  const m = CIDR.exec(v)
  const ok = m !== null && m.slice(1, 5).every((o) => Number(o) <= 255) && Number(m[5]) >= 16 && Number(m[5]) <= 24
  if (!ok) throw new ContextError(key, `must be an IPv4 CIDR with a /16../24 prefix; got ${JSON.stringify(v)}`)
  return v
}

/** Retention values CloudWatch Logs accepts. */
const RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]

function parseRetention(key: string, days: number): number {
  if (!RETENTION_DAYS.includes(days)) throw new ContextError(key, `must be one of ${RETENTION_DAYS.join(', ')}; got ${days}`)
  return days
}

function parseDeployments(key: string, v: unknown): DeploymentConfig[] {
  if (v === undefined) return []
  if (!Array.isArray(v)) throw new ContextError(key, 'must be an array of { id, image, containerPort?, desiredCount? }')
  const seen = new Set<string>()
  return v.map((item: unknown, i): DeploymentConfig => {
    const k = `${key}[${i}]`
    if (!isRecord(item)) throw new ContextError(k, 'must be an object')
    const { id, image, containerPort = 8080, desiredCount = 2 } = item
    if (typeof id !== 'string' || !DEPLOYMENT_ID.test(id)) throw new ContextError(`${k}.id`, `must be a DNS label (lowercase letters, digits, '-', at most 63); got ${JSON.stringify(id)}`)
    if (id === 'media') throw new ContextError(`${k}.id`, '"media" is reserved for the media node service')
    if (seen.has(id)) throw new ContextError(`${k}.id`, `duplicate deployment id ${JSON.stringify(id)}`)
    seen.add(id)
    if (typeof image !== 'string' || image.length === 0) throw new ContextError(`${k}.image`, 'must be a non-empty image reference')
    if (typeof containerPort !== 'number' || !Number.isInteger(containerPort) || containerPort < 1 || containerPort > 65535) {
      throw new ContextError(`${k}.containerPort`, `must be a port number; got ${JSON.stringify(containerPort)}`)
    }
    if (typeof desiredCount !== 'number' || !Number.isInteger(desiredCount) || desiredCount < 0 || desiredCount > 100) {
      throw new ContextError(`${k}.desiredCount`, `must be an integer in [0, 100]; got ${JSON.stringify(desiredCount)}`)
    }
    return { id, image, containerPort, desiredCount }
  })
}

/**
 * Build the typed configuration of one environment from context.
 * Values come from a top-level context key (e.g. `-c certificateArn=...`) if
 * set, else from `environments.<env>.<field>` (cdk.json), else a default.
 */
export function loadEnvironmentConfig(source: ContextSource, env: EnvironmentName): EnvironmentConfig {
  const r = new Reader(source, env)
  const d = { ...BASE_DEFAULTS, ...ENV_DEFAULTS[env] }
  const num = (field: keyof typeof BASE_DEFAULTS): number => Number(d[field])
  const str = (field: keyof typeof BASE_DEFAULTS): string => String(d[field])

  const account = r.optionalString('account', ACCOUNT, 'a 12-digit AWS account id')
  const region = r.optionalString('region', REGION, 'an AWS region name such as eu-west-1')
  if ((account === undefined) !== (region === undefined)) {
    throw new ContextError(account === undefined ? r.keyOf('account') : r.keyOf('region'), 'account and region must be set together (or neither, for an environment-agnostic stack)')
  }
  const azRaw = r.raw('availabilityZones')
  let availabilityZones: string[] | undefined
  if (azRaw !== undefined) {
    if (!Array.isArray(azRaw) || azRaw.length !== 2 || !azRaw.every((a): a is string => typeof a === 'string' && /^[a-z0-9-]+[a-z]$/.test(a))) {
      throw new ContextError(r.keyOf('availabilityZones'), `must be an array of exactly 2 AZ names; got ${JSON.stringify(azRaw)}`)
    }
    if (region === undefined) throw new ContextError(r.keyOf('availabilityZones'), 'needs a fixed account and region')
    availabilityZones = azRaw
  } else if (region !== undefined) {
    availabilityZones = [`${region}a`, `${region}b`]
  }

  const routerMinTasks = r.int('routerMinTasks', num('routerMinTasks'), 2, 100)
  const routerMaxTasks = r.int('routerMaxTasks', num('routerMaxTasks'), 2, 100)
  if (routerMaxTasks < routerMinTasks) throw new ContextError(r.keyOf('routerMaxTasks'), `must be >= routerMinTasks (${routerMinTasks})`)
  const drainDelaySeconds = r.int('drainDelaySeconds', num('drainDelaySeconds'), 0, 60)
  const drainTimeoutSeconds = r.int('drainTimeoutSeconds', num('drainTimeoutSeconds'), 1, 100)
  if (routerStopTimeoutSeconds(drainDelaySeconds, drainTimeoutSeconds) > MAX_STOP_TIMEOUT_SECONDS) {
    const most = MAX_STOP_TIMEOUT_SECONDS - STOP_TIMEOUT_MARGIN_SECONDS
    throw new ContextError(r.keyOf('drainTimeoutSeconds'), `drainDelaySeconds + min(30, drainTimeoutSeconds) (in-flight HTTP) + drainTimeoutSeconds must be <= ${most} so the drain fits in the ${MAX_STOP_TIMEOUT_SECONDS} s container stop timeout`)
  }

  return {
    name: env,
    account,
    region,
    availabilityZones,
    certificateArn: r.string('certificateArn', undefined, ACM_ARN, 'an ACM certificate ARN, arn:aws:acm:<region>:<account>:certificate/<id>'),
    wafWebAclArn: r.optionalString('wafWebAclArn', WAF_ARN, 'a regional WAFv2 web ACL ARN'),
    alarmEmail: r.optionalString('alarmEmail', /^[^@\s]+@[^@\s]+\.[^@\s]+$/, 'an e-mail address'),
    namespaceName: r.string('namespaceName', `${env}.edge.internal`, DNS_NAME, 'a lowercase DNS name with at least two labels'),
    vpcCidr: parseCidr(r.keyOf('vpcCidr'), r.string('vpcCidr', str('vpcCidr'))),
    natGateways: r.int('natGateways', num('natGateways'), 1, 2),
    routerInstanceType: r.string('routerInstanceType', str('routerInstanceType'), INSTANCE_TYPE, 'an EC2 instance type such as t3.medium'),
    workloadInstanceType: r.string('workloadInstanceType', str('workloadInstanceType'), INSTANCE_TYPE, 'an EC2 instance type such as c6i.large'),
    routerImage: r.string('routerImage', undefined, /^\S+$/, 'a container image reference'),
    mediaNodeImage: r.string('mediaNodeImage', undefined, /^\S+$/, 'a container image reference'),
    routerMinTasks,
    routerMaxTasks,
    mediaNodeTasks: r.int('mediaNodeTasks', num('mediaNodeTasks'), 0, 1000),
    idleTimeoutSeconds: r.int('idleTimeoutSeconds', num('idleTimeoutSeconds'), 3600, 4000),
    drainDelaySeconds,
    drainTimeoutSeconds,
    logRetentionDays: parseRetention(r.keyOf('logRetentionDays'), r.int('logRetentionDays', num('logRetentionDays'), 1, 3653)),
    deployments: parseDeployments(r.keyOf('deployments'), r.raw('deployments')),
    routerDeploymentControl: r.bool('routerDeploymentControl', false),
  }
}
