// App assembly: reads cdk.json's context as defaults (so `npm run synth` works
// without the CDK CLI), picks the environment(s) from the `env` context key
// and adds one EdgeRouterStack per environment. No lookups, no credentials.
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { App } from 'aws-cdk-lib'
import { ContextError, ENVIRONMENT_NAMES, loadEnvironmentConfig, parseEnvironmentName } from './config.js'
import type { EnvironmentName } from './config.js'
import { EdgeRouterStack } from './stacks/edge-router-stack.js'

/** Folder of this app (infra/aws). */
export const APP_DIR = dirname(fileURLToPath(import.meta.url))

/** The `context` object of infra/aws/cdk.json. */
export function readCdkJsonContext(file = join(APP_DIR, 'cdk.json')): Record<string, unknown> {
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'))
  if (typeof parsed !== 'object' || parsed === null || !('context' in parsed)) return {}
  const context: unknown = parsed.context
  if (typeof context !== 'object' || context === null || Array.isArray(context)) throw new ContextError('context', `${file}: "context" must be an object`)
  return { ...context }
}

/** Options of {@link createApp}. */
export interface CreateAppOptions {
  /** Default context (under CDK_CONTEXT_JSON / -c). Default: cdk.json's context. */
  readonly context?: Record<string, unknown>
  /** Cloud assembly folder. Default: $CDK_OUTDIR or infra/aws/cdk.out. */
  readonly outdir?: string
}

/** Stack name of an environment. */
export function stackName(env: EnvironmentName): string {
  return `EdgeRouter-${env}`
}

/**
 * Build the app. Context `env` selects the stack: `dev`, `stg`, `prod`, or
 * `all` for the three.
 */
export function createApp(options: CreateAppOptions = {}): { app: App; stacks: EdgeRouterStack[] } {
  const app = new App({
    context: options.context ?? readCdkJsonContext(),
    outdir: options.outdir ?? process.env.CDK_OUTDIR ?? join(APP_DIR, 'cdk.out'),
  })
  const selected: unknown = app.node.tryGetContext('env') ?? 'dev'
  const envs: readonly EnvironmentName[] = selected === 'all' ? ENVIRONMENT_NAMES : [parseEnvironmentName(selected, 'env')]
  const stacks = envs.map((env) => {
    const config = loadEnvironmentConfig(app.node, env)
    return new EdgeRouterStack(app, stackName(env), {
      config,
      description: `Edge router for ECS (${env}): ALB with one default action, router tier, Cloud Map discovery`,
      ...(config.account !== undefined && config.region !== undefined ? { env: { account: config.account, region: config.region } } : {}),
      terminationProtection: env === 'prod',
    })
  })
  return { app, stacks }
}
