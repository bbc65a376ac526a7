// Starts the local dev stack (infra/local) for the runner. The stack module is
// written alongside this one, so it is loaded at run time and its result is
// checked against the agreed contract instead of being trusted blindly:
//   startDevStack(options?: { quiet?: boolean }) → Promise<{ routerUrl, adminUrl,
//   deployments: string[], mediaNodes: string[], close(): Promise<void> }>
// and, optionally, mediaNodeAdminUrls (each node's admin listener, in mediaNodes
// order) with adminToken.

export interface DevStack {
  routerUrl: string
  adminUrl: string
  deployments: string[]
  mediaNodes: string[]
  close(): Promise<void>
  /** Each media node's admin listener, by node id ({} when the stack has none). */
  mediaAdminUrls: Record<string, string>
  /** Bearer token of those admin listeners. */
  adminToken: string | undefined
}

/** The stack module could not be loaded or broke the contract. */
export class DevStackError extends Error {
  readonly code = 'LOADTEST_DEV_STACK'
  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = 'DevStackError'
  }
}

const STACK_MODULE = new URL('../../../infra/local/src/dev-stack.js', import.meta.url)

function stringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string')
}

/** Checks an object returned by startDevStack() against the contract. */
export function toDevStack(value: unknown): DevStack {
  if (typeof value !== 'object' || value === null) throw new DevStackError('startDevStack() did not return an object')
  const routerUrl: unknown = Reflect.get(value, 'routerUrl')
  const adminUrl: unknown = Reflect.get(value, 'adminUrl')
  const deployments: unknown = Reflect.get(value, 'deployments')
  const mediaNodes: unknown = Reflect.get(value, 'mediaNodes')
  const close: unknown = Reflect.get(value, 'close')
  if (typeof routerUrl !== 'string') throw new DevStackError('dev stack: routerUrl is not a string')
  if (typeof adminUrl !== 'string') throw new DevStackError('dev stack: adminUrl is not a string')
  if (!stringArray(deployments)) throw new DevStackError('dev stack: deployments is not a string[]')
  if (!stringArray(mediaNodes)) throw new DevStackError('dev stack: mediaNodes is not a string[]')
  if (typeof close !== 'function') throw new DevStackError('dev stack: close is not a function')
  const adminUrls: unknown = Reflect.get(value, 'mediaNodeAdminUrls')
  const adminToken: unknown = Reflect.get(value, 'adminToken')
  const mediaAdminUrls: Record<string, string> = {}
  if (Array.isArray(adminUrls)) {
    mediaNodes.forEach((id, i) => {
      const url: unknown = adminUrls[i]
      if (typeof url === 'string') mediaAdminUrls[id] = url
    })
  }
  return {
    routerUrl: routerUrl.replace(/\/+$/, ''),
    adminUrl,
    deployments,
    mediaNodes,
    close: async () => {
      await Reflect.apply(close, value, [])
    },
    mediaAdminUrls,
    adminToken: typeof adminToken === 'string' ? adminToken : undefined,
  }
}

/** Imports infra/local's dev stack and starts it. */
export async function startLocalStack(quiet: boolean): Promise<DevStack> {
  let mod: unknown
  try {
    mod = await import(STACK_MODULE.href)
  } catch (err) {
    throw new DevStackError(`cannot load the dev stack (${STACK_MODULE.pathname}); build it first or set BASE_URL to target a running router`, { cause: err })
  }
  const start: unknown = typeof mod === 'object' && mod !== null ? Reflect.get(mod, 'startDevStack') : undefined
  if (typeof start !== 'function') throw new DevStackError(`${STACK_MODULE.pathname} does not export startDevStack()`)
  // Beyond the contract's { quiet }: ephemeral ports (no clash with a running `npm start`)
  // and no access log (the runner measures the router, not its log writes). Ignored if unknown.
  const result: unknown = await Reflect.apply(start, undefined, [{ quiet, routerPort: 0, adminPort: 0, routerEnv: { ACCESS_LOG: 'false' } }])
  return toDevStack(result)
}
