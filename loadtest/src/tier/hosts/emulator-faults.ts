// Maps the cloudmap host's fault switches onto the emulator's own test
// switches. A switch the emulator does not have is refused with a message,
// so the conductor can fall back (for an API hang: SIGSTOP of the host).

import type { Emulator } from '../../../../infra/local/src/emulator/index.js'

export type DnsFault = 'answer' | 'drop' | 'down'
export type ApiFault = 'answer' | 'hang'

export interface EmulatorFaults {
  dns: DnsFault
  api: ApiFault
}

const DNS: readonly DnsFault[] = ['answer', 'drop', 'down']

function isDnsFault(v: string): v is DnsFault {
  return (DNS as readonly string[]).includes(v)
}

/** Applies `dns=` and `api=` from `params` to the emulator and records them in `faults`. */
export async function applyEmulatorFault(emulator: Emulator, faults: EmulatorFaults, params: URLSearchParams): Promise<void> {
  const dns = params.get('dns')
  if (dns !== null) {
    if (!isDnsFault(dns)) throw new Error(`dns must be one of ${DNS.join(', ')}`)
    if (dns === 'down') await emulator.stopDns()
    else {
      await emulator.startDns()
      emulator.setDnsMode(dns)
    }
    faults.dns = dns
  }
  const api = params.get('api')
  if (api !== null) {
    if (api !== 'answer') throw new Error(`api=${api} is not supported by this emulator`)
    faults.api = 'answer'
  }
}
