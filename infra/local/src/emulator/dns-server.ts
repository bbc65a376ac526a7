// DNS sockets: one UDP socket and one TCP server on the same port number.
// UDP datagrams are answered one for one; TCP carries 2-byte length-prefixed
// messages, several per connection (RFC 1035 §4.2.2, RFC 7766). What to answer
// is decided by the `respond` callback; this module only moves bytes.

import { createSocket, type Socket as UdpSocket } from 'node:dgram'
import { createServer, isIPv6, type Server, type Socket } from 'node:net'
import type { Transport } from './dns-handler.js'

/** Returns the response bytes, or undefined to stay silent. */
export type Respond = (query: Buffer, transport: Transport) => Buffer | undefined

const MAX_BIND_ATTEMPTS = 10
const TCP_IDLE_MS = 10_000

function listenUdp(socket: UdpSocket, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err)
    socket.once('error', onError)
    socket.bind(port, host, () => {
      socket.off('error', onError)
      resolve(socket.address().port)
    })
  })
}

function listenTcp(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err)
    server.once('error', onError)
    server.listen(port, host, () => {
      server.off('error', onError)
      resolve()
    })
  })
}

function isAddrInUse(err: unknown): boolean {
  return err instanceof Error && 'code' in err && err.code === 'EADDRINUSE'
}

export class DnsServer {
  readonly #host: string
  readonly #respond: Respond
  readonly #onError: (err: unknown) => void
  #udp: UdpSocket | undefined
  #tcp: Server | undefined
  readonly #connections = new Set<Socket>()
  #port = 0

  constructor(host: string, respond: Respond, onError: (err: unknown) => void) {
    this.#host = host
    this.#respond = respond
    this.#onError = onError
  }

  get port(): number {
    return this.#port
  }

  get listening(): boolean {
    return this.#udp !== undefined
  }

  /**
   * Bind UDP and TCP on `port`. With port 0 the UDP socket picks a free port
   * and TCP takes the same number; if TCP finds it taken, both retry.
   */
  async listen(port: number): Promise<number> {
    if (this.#udp !== undefined) return this.#port
    for (let attempt = 1; ; attempt++) {
      const udp = createSocket({ type: isIPv6(this.#host) ? 'udp6' : 'udp4' })
      const bound = await listenUdp(udp, this.#host, port)
      const tcp = createServer((socket) => this.#onConnection(socket))
      try {
        await listenTcp(tcp, this.#host, bound)
      } catch (err) {
        udp.close()
        if (port === 0 && isAddrInUse(err) && attempt < MAX_BIND_ATTEMPTS) continue
        throw err
      }
      udp.on('message', (msg, rinfo) => this.#onDatagram(udp, msg, rinfo.address, rinfo.port))
      udp.on('error', (err) => this.#onError(err))
      tcp.on('error', (err) => this.#onError(err))
      this.#udp = udp
      this.#tcp = tcp
      this.#port = bound
      return bound
    }
  }

  #onDatagram(udp: UdpSocket, msg: Buffer, address: string, port: number): void {
    let response: Buffer | undefined
    try {
      response = this.#respond(msg, 'udp')
    } catch (err) {
      this.#onError(err)
      return
    }
    if (response !== undefined) {
      udp.send(response, port, address, (err) => {
        if (err) this.#onError(err)
      })
    }
  }

  #onConnection(socket: Socket): void {
    this.#connections.add(socket)
    socket.setTimeout(TCP_IDLE_MS, () => socket.destroy())
    socket.on('close', () => this.#connections.delete(socket))
    socket.on('error', () => socket.destroy())
    let pending: Buffer = Buffer.alloc(0)
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
      while (pending.length >= 2) {
        const length = pending.readUInt16BE(0)
        if (pending.length < 2 + length) break
        const message = pending.subarray(2, 2 + length)
        pending = pending.subarray(2 + length)
        let response: Buffer | undefined
        try {
          response = this.#respond(message, 'tcp')
        } catch (err) {
          this.#onError(err)
          continue
        }
        if (response !== undefined && !socket.destroyed) {
          const prefix = Buffer.alloc(2)
          prefix.writeUInt16BE(response.length, 0)
          socket.write(Buffer.concat([prefix, response]))
        }
      }
    })
  }

  /** Close both sockets and every open TCP connection. */
  async close(): Promise<void> {
    const udp = this.#udp
    const tcp = this.#tcp
    this.#udp = undefined
    this.#tcp = undefined
    for (const socket of this.#connections) socket.destroy()
    this.#connections.clear()
    await Promise.all([
      udp === undefined ? undefined : new Promise<void>((resolve) => udp.close(() => resolve())),
      tcp === undefined ? undefined : new Promise<void>((resolve) => tcp.close(() => resolve())),
    ])
  }
}
