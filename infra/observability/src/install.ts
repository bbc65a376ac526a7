// Makes sure Prometheus and promtool are installed (../install-prometheus.sh,
// Debian's `prometheus` package) and says why not where they cannot be.

import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const INSTALL_SCRIPT = fileURLToPath(new URL('../install-prometheus.sh', import.meta.url))

/** Undefined when both binaries are usable; the reason to skip when they cannot be installed here. Throws when the install failed. */
export function ensurePrometheus(): string | undefined {
  const r = spawnSync('bash', [INSTALL_SCRIPT], { encoding: 'utf8' })
  if (r.status === 3) return r.stderr.trim() || 'prometheus cannot be installed on this machine'
  if (r.status !== 0) throw new Error(`${INSTALL_SCRIPT} failed (${String(r.status ?? r.signal)}): ${r.stderr.trim()}`)
  for (const bin of ['prometheus', 'promtool']) {
    if (spawnSync(bin, ['--version']).status !== 0) throw new Error(`${bin} is still not runnable after ${INSTALL_SCRIPT}`)
  }
  return undefined
}
