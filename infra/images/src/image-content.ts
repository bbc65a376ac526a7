// What may be in an image's /app, judged from its file list: only the compiled
// entrypoint's folder and the package files of our own; in node_modules the
// production dependencies of package-lock.json and no dev dependency; no
// source maps, TypeScript sources or tests anywhere.
import { isRecord } from './json.js'

/** Package folders (`node_modules/a`, `node_modules/a/node_modules/b`) by whether `npm ci --omit=dev` leaves them out. */
export interface LockPackages {
  readonly dev: readonly string[]
  /** Neither dev nor optional: must be installed. */
  readonly required: readonly string[]
}

/** Read the `packages` map of a lockfile (v2/v3). */
export function lockPackages(lockJson: string): LockPackages {
  const lock: unknown = JSON.parse(lockJson)
  if (!isRecord(lock) || !isRecord(lock.packages)) throw new Error('package-lock.json: no "packages" (lockfile v2 or later expected)')
  const dev: string[] = []
  const required: string[] = []
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === '' || !isRecord(entry)) continue
    if (entry.dev === true) dev.push(path)
    else if (entry.optional !== true && entry.devOptional !== true) required.push(path)
  }
  return { dev, required }
}

/**
 * Problems with the files of an image's /app (paths relative to /app).
 * `distDir` is the one compiled folder the image should carry, e.g. `dist/router`.
 */
export function contentProblems(files: readonly string[], lock: LockPackages, distDir: string): string[] {
  const problems: string[] = []
  const present = new Set(files)
  for (const f of files) {
    if (/\.map$/.test(f)) problems.push(`source map: ${f}`)
    if (f.startsWith('node_modules/')) continue
    if (f === 'package.json' || f === 'package-lock.json') continue
    if (!f.startsWith(`${distDir}/`)) problems.push(`not ours to ship: ${f}`)
    else if (!f.endsWith('.js')) problems.push(`not compiled JavaScript: ${f}`)
    else if (/(^|\/)(test|tests|__tests__)\/|\.(test|spec)\.js$/.test(f)) problems.push(`test: ${f}`)
  }
  for (const dir of lock.dev) {
    const inside = `${dir}/`
    if (files.some((f) => f.startsWith(inside))) problems.push(`dev dependency: ${dir}`)
  }
  for (const dir of lock.required) if (!present.has(`${dir}/package.json`)) problems.push(`production dependency missing: ${dir}`)
  return problems
}
