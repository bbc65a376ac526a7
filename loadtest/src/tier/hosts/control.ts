// The fault switch of a tier app host (app-host.ts): a tiny
// HTTP server on the host's own address. `POST /fault?<name>=<value>` sets
// switches through the host's handler; `GET /status` answers its state. Only
// the run's conductor talks to it, inside the run's own network.

import { createServer, type Server } from 'node:http'

export interface ControlHandler {
  /** Applies the switches in `params`; throws an Error with a message for a bad one. */
  fault(params: URLSearchParams): Promise<void> | void
  status(): Record<string, unknown>
}

/** Starts the control server on host:port; resolves once it listens. */
export async function startControl(host: string, port: number, handler: ControlHandler): Promise<Server> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://control.invalid')
    const send = (status: number, body: Record<string, unknown>): void => {
      const text = JSON.stringify(body)
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
      res.end(text)
    }
    req.resume()
    if (req.method === 'GET' && url.pathname === '/status') return send(200, handler.status())
    if (req.method !== 'POST' || url.pathname !== '/fault') return send(404, { error: 'use POST /fault?name=value or GET /status', code: 'NOT_FOUND' })
    Promise.resolve()
      .then(() => handler.fault(url.searchParams))
      .then(
        () => send(200, handler.status()),
        (err: unknown) => send(400, { error: err instanceof Error ? err.message : String(err), code: 'BAD_FAULT' }),
      )
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve())
  })
  return server
}

/** Logs one JSON line (these host processes write to their log file). */
export function logLine(entry: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`)
}
