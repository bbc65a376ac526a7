// A DNS lookup for HTTP agents that answers `localhost` and every
// `*.localhost` name with 127.0.0.1, as RFC 6761 §6.3 asks of resolvers (and
// as systemd-resolved, curl and browsers do), and refuses every other name
// without asking any server. It lets an AWS SDK client keep host prefix
// injection on against the emulator: with the endpoint
// http://cloudmap.localhost:9600, DiscoverInstances goes to
// data-cloudmap.localhost:9600, which this lookup maps to the emulator.

import type { LookupFunction } from 'node:net'

/** True for `localhost` and names under it (case-insensitive, trailing dot allowed). */
export function isLocalhostName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.$/, '')
  return name === 'localhost' || name.endsWith('.localhost')
}

/** `lookup` for http.Agent / net.connect: *.localhost → 127.0.0.1, anything else ENOTFOUND. */
export const localhostLookup: LookupFunction = (hostname, options, callback) => {
  if (!isLocalhostName(hostname)) {
    const err: NodeJS.ErrnoException = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname} (only *.localhost names are resolved here)`), { code: 'ENOTFOUND', hostname })
    process.nextTick(() => callback(err, options.all === true ? [] : '', 4))
    return
  }
  process.nextTick(() => (options.all === true ? callback(null, [{ address: '127.0.0.1', family: 4 }]) : callback(null, '127.0.0.1', 4)))
}
