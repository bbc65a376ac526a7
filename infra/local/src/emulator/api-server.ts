// The Cloud Map HTTP endpoint: AWS JSON 1.1 protocol as the SDK speaks it.
// POST / with `X-Amz-Target: Route53AutoNaming_v20170314.<Operation>` and a
// JSON body; success is 200 with a JSON body, failure is the model's status
// with `{"__type": "<Code>", "Message": ...}` plus the `x-amzn-ErrorType`
// header. Bad JSON, unknown operations and unexpected exceptions all become AWS
// errors; the server never crashes on input. Fault switches (faults.ts) can
// turn a call into an error, a hang or a delay; they are read and set at
// `/emulator/faults` on the same port (GET, PUT a patch, DELETE clears), which
// keeps answering whatever the switches say.

import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { AwsError, internalFailure, invalidInput, serializationError, unknownOperation } from './aws-errors.js'
import { parseFaultsPatch, type ApiAction, type Faults } from './faults.js'
import { HANDLERS } from './operations.js'
import type { EmulatorState } from './state.js'
import { isObject } from './validate.js'

export const TARGET_PREFIX = 'Route53AutoNaming_v20170314.'
/** Path of the fault switches' HTTP endpoint. */
export const FAULTS_PATH = '/emulator/faults'
const CONTENT_TYPE = 'application/x-amz-json-1.1'
const MAX_BODY_BYTES = 1024 * 1024

export interface ApiServerOptions {
  readonly state: EmulatorState
  /** Called once per request with the operation name (or '' when there is none). */
  readonly onCall: (operation: string) => void
  /** The fault switches: what to do instead of answering a call normally. */
  readonly faults: Faults
  readonly log: (entry: Record<string, unknown>) => void
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': CONTENT_TYPE,
    'content-length': String(Buffer.byteLength(text)),
    'x-amzn-requestid': randomUUID(),
    ...headers,
  })
  res.end(text)
}

function sendError(res: ServerResponse, err: AwsError): void {
  send(res, err.statusCode, err.toBody(), { 'x-amzn-errortype': err.code })
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) {
        reject(invalidInput('request body too large'))
        req.destroy()
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks)))
    req.on('error', reject)
  })
}

export class ApiServer {
  readonly #options: ApiServerOptions
  readonly #server: Server
  /** Calls held by `hang` or `slow`, answered (slow) or dropped (hang) when the client or the server closes. */
  readonly #held = new Set<ServerResponse>()

  constructor(options: ApiServerOptions) {
    this.#options = options
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((err: unknown) => {
        options.log({ level: 'error', msg: 'api request failed', err: String(err) })
        if (!res.headersSent) sendError(res, internalFailure('internal error'))
        else res.destroy()
      })
    })
    // Longer than SDK clients keep idle sockets, so a client never reuses a
    // socket the server is just closing (that race surfaces as ECONNRESET).
    this.#server.keepAliveTimeout = 65_000
    this.#server.headersTimeout = 66_000
  }

  /** API calls held right now by a hang or slow fault. */
  get heldCalls(): number {
    return this.#held.size
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.url?.split('?')[0] === FAULTS_PATH) return this.#faultsEndpoint(req, res)
    const target = req.headers['x-amz-target']
    const operation = typeof target === 'string' && target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : ''
    this.#options.onCall(operation)
    let raw: Buffer
    try {
      raw = await readBody(req)
    } catch (err) {
      if (err instanceof AwsError && !res.destroyed) sendError(res, err)
      return
    }
    if (req.method !== 'POST') {
      sendError(res, unknownOperation(`${req.method ?? ''} is not supported; use POST`))
      return
    }
    const handler = HANDLERS.get(operation)
    if (handler === undefined) {
      const shown = typeof target === 'string' ? target : '(missing X-Amz-Target)'
      sendError(res, unknownOperation(`Unknown operation ${shown}`))
      return
    }
    let body: unknown
    try {
      body = raw.length === 0 ? {} : JSON.parse(raw.toString('utf8'))
    } catch {
      sendError(res, serializationError('Request body is not valid JSON'))
      return
    }
    if (!isObject(body)) {
      sendError(res, serializationError('Request body must be a JSON object'))
      return
    }
    const action = this.#options.faults.actionFor(operation)
    if (action !== undefined && !(await this.#applyFault(action, res))) return
    try {
      send(res, 200, handler(this.#options.state, body))
    } catch (err) {
      if (err instanceof AwsError) {
        sendError(res, err)
        return
      }
      throw err
    }
  }

  /**
   * Carries out a fault. Resolves true when the call should then be answered
   * normally (after a delay), false when it was answered or must never be.
   */
  async #applyFault(action: ApiAction, res: ServerResponse): Promise<boolean> {
    if (action.kind === 'error') {
      sendError(res, action.error)
      return false
    }
    this.#held.add(res)
    res.once('close', () => this.#held.delete(res))
    if (action.kind === 'hang') return false
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, action.ms)
      res.once('close', () => {
        clearTimeout(timer)
        resolve()
      })
    })
    this.#held.delete(res)
    return !res.destroyed && !res.writableEnded
  }

  async #faultsEndpoint(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const faults = this.#options.faults
    const json = (status: number, body: unknown): void => {
      const text = JSON.stringify(body)
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) })
      res.end(text)
    }
    let raw: Buffer
    try {
      raw = await readBody(req)
    } catch {
      if (!res.destroyed) json(413, { error: 'body too large', code: 'InvalidInput' })
      return
    }
    if (req.method === 'GET') return json(200, faults.view())
    if (req.method === 'DELETE') {
      const view = faults.clear()
      this.#options.log({ level: 'info', msg: 'emulator faults cleared' })
      return json(200, view)
    }
    if (req.method !== 'PUT') {
      res.setHeader('allow', 'GET, PUT, DELETE')
      return json(405, { error: `${req.method ?? ''} is not supported on ${FAULTS_PATH}`, code: 'MethodNotAllowed' })
    }
    try {
      const view = faults.apply(parseFaultsPatch(JSON.parse(raw.toString('utf8'))))
      this.#options.log({ level: 'info', msg: 'emulator faults set', faults: view })
      json(200, view)
    } catch (err) {
      const message = err instanceof AwsError || err instanceof SyntaxError ? err.message : String(err)
      json(400, { error: message, code: 'InvalidInput' })
    }
  }

  /** Listen; resolves with the bound port. */
  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(err)
      this.#server.once('error', onError)
      this.#server.listen(port, host, () => {
        this.#server.off('error', onError)
        const address = this.#server.address()
        if (address === null || typeof address === 'string') reject(new Error('API server has no TCP address'))
        else resolve(address.port)
      })
    })
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.#server.close(() => resolve())
      this.#server.closeAllConnections()
    })
  }
}
