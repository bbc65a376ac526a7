// Can this machine build and run the images? Installs the Debian packages the
// test needs when they are missing (idempotent, serialised on /tmp/apt.lock),
// then asks podman itself. Anything that makes podman unable to run here is a
// reason to skip; a failure after that is a failure.
import { readFileSync } from 'node:fs'
import type { Podman } from './podman.js'
import { lastLines, mustRun, onPath, run } from './run.js'

/** podman + runc (crun cannot set RLIMIT_NOFILE here), mmdebstrap for the base image, uidmap. */
export const APT_PACKAGES = ['podman', 'runc', 'mmdebstrap', 'uidmap'] as const

const APT_LOCK = '/tmp/apt.lock'

/** Ready to go, or why not. */
export type Preflight = { readonly ready: true; readonly podmanVersion: string } | { readonly ready: false; readonly reason: string }

/** Packages of `names` that dpkg does not have installed. */
async function missingPackages(names: readonly string[]): Promise<string[]> {
  const missing: string[] = []
  for (const name of names) {
    const r = await run('dpkg-query', ['--show', '--showformat=${Status}', name])
    if (r.code !== 0 || !r.stdout.includes('install ok installed')) missing.push(name)
  }
  return missing
}

/** `apt-get update` then `apt-get install -y …`, each under the shared apt lock. */
async function aptInstall(names: readonly string[]): Promise<void> {
  const env = { DEBIAN_FRONTEND: 'noninteractive' }
  await mustRun('flock', [APT_LOCK, 'apt-get', 'update'], { env })
  await mustRun('flock', [APT_LOCK, 'apt-get', 'install', '-y', ...names], { env })
}

/** The codename of the running Debian release (`VERSION_CODENAME` in /etc/os-release). */
export function hostCodename(osRelease = '/etc/os-release'): string | undefined {
  try {
    return /^VERSION_CODENAME=("?)([a-z]+)\1$/m.exec(readFileSync(osRelease, 'utf8'))?.[2]
  } catch {
    return undefined
  }
}

/** Install what is missing, then check that podman runs; log each step with `log`. */
export async function preflight(podman: Podman, log: (line: string) => void): Promise<Preflight> {
  if (process.platform !== 'linux') return { ready: false, reason: `podman containers need Linux; this is ${process.platform}` }
  if (process.getuid?.() !== 0) return { ready: false, reason: 'needs root (rootful podman, mmdebstrap, apt-get); run as root or in CI' }
  if (!onPath('dpkg-query') || !onPath('apt-get')) {
    if (!onPath('podman')) return { ready: false, reason: 'podman is not installed and there is no apt-get to install it' }
  } else {
    const missing = await missingPackages(APT_PACKAGES)
    if (missing.length > 0) {
      log(`installing ${missing.join(' ')} (apt-get, ${APT_LOCK})`)
      await aptInstall(missing)
    }
  }
  if (!onPath('mmdebstrap')) return { ready: false, reason: 'mmdebstrap is not installed (needed to make the base image)' }
  const info = await podman.run(['info', '--format', '{{.Version.Version}} {{.Host.OCIRuntime.Name}}'])
  if (info.code !== 0) return { ready: false, reason: `podman info failed: ${lastLines(info.stderr, 5)}` }
  return { ready: true, podmanVersion: info.stdout.trim() }
}
