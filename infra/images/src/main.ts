// `npm run test:images`: build Dockerfile.router and Dockerfile.node with
// podman (no Docker engine needed) on a locally made base image, run them, and
// check them (checks.ts). Where podman cannot run it says why on a loud
// SKIPPED line and exits 0; on a machine that can, any failure exits 1.
// Containers and every image it made are removed at the end, except the base
// image, which is kept as a cache (rebuilt when its recipe changes).
import { readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { baseIsCurrent, baseRecipe, buildBaseImage } from './base-image.js'
import { runChecks } from './checks.js'
import type { CheckContext, ImageUnderTest } from './checks.js'
import { documentedStopTimeoutSeconds } from './documented-run.js'
import { preflight } from './host.js'
import { nodeBaseOf } from './node-dist.js'
import { Podman } from './podman.js'

const ROOT = resolve(import.meta.dirname, '..', '..', '..', '..')
const started = Date.now()

function log(line: string): void {
  const s = ((Date.now() - started) / 1000).toFixed(0).padStart(4)
  process.stdout.write(`# images [${s} s] ${line}\n`)
}

function skipped(reason: string): void {
  const bar = '='.repeat(78)
  process.stdout.write(`${bar}\nSKIPPED: npm run test:images: ${reason}\n${bar}\n`)
}

/** The two images, named as the README's `docker run` examples name them. */
function imagesUnderTest(readme: string): { router: ImageUnderTest; mediaNode: ImageUnderTest } {
  const image = (dockerfile: string, documentedName: string, folder: string): ImageUnderTest => ({
    dockerfile,
    ref: `localhost/${documentedName}:images-test`,
    documentedName,
    distDir: `dist/${folder}`,
    main: `dist/${folder}/src/main.js`,
    stopTimeoutSeconds: documentedStopTimeoutSeconds(readme, documentedName),
  })
  return { router: image('Dockerfile.router', 'edge-router', 'router'), mediaNode: image('Dockerfile.node', 'media-node', 'media-node') }
}

async function build(podman: Podman, image: ImageUnderTest): Promise<void> {
  const t0 = Date.now()
  await podman.must(['build', '--pull=never', '--network=host', '--format', 'docker', '--file', image.dockerfile, '--tag', image.ref, '.'], ROOT)
  log(`built ${image.dockerfile} as ${image.ref} in ${((Date.now() - t0) / 1000).toFixed(0)} s`)
}

async function main(): Promise<number> {
  const podman = new Podman(join(ROOT, 'infra', 'images', 'containers.conf'))
  const ready = await preflight(podman, log)
  if (!ready.ready) {
    skipped(ready.reason)
    return 0
  }
  log(`podman ${ready.podmanVersion}`)
  const { router, mediaNode } = imagesUnderTest(readFileSync(join(ROOT, 'README.md'), 'utf8'))
  const base = nodeBaseOf([router, mediaNode].map((i) => readFileSync(join(ROOT, i.dockerfile), 'utf8')))
  const recipeDir = join(ROOT, 'infra', 'images', 'base')
  const recipe = baseRecipe(base, recipeDir)
  // Left over by an interrupted run: would otherwise outlive this run's clean-up.
  await podman.run(['rmi', '--force', '--ignore', router.ref, mediaNode.ref])
  const imagesBefore = await podman.imageIds()
  const containers: string[] = []
  try {
    if (await baseIsCurrent(podman, recipe)) {
      log(`base image ${base.ref}: cached (recipe ${recipe.hash})`)
    } else {
      await buildBaseImage(podman, recipe, recipeDir, log)
      log(`base image ${base.ref}: made (recipe ${recipe.hash})`)
    }
    for (const image of [router, mediaNode]) await build(podman, image)
    const { default: t } = await import('tap')
    t.setTimeout(10 * 60_000)
    const ctx: CheckContext = { podman, root: ROOT, baseRef: base.ref, router, mediaNode, containers }
    await t.test('container images', (t) => runChecks(t, ctx))
    return t.counts.fail > 0 ? 1 : 0
  } finally {
    const keep = (await podman.imageExists(base.ref)) ? await podman.imageId(base.ref) : ''
    const made = [...(await podman.imageIds())].filter((id) => !imagesBefore.has(id) && id !== keep)
    await podman.remove(containers, made)
    log(`removed ${containers.length} containers and ${made.length} images (kept the base image); total ${((Date.now() - started) / 1000).toFixed(0)} s`)
  }
}

main().then(
  (code) => {
    process.exitCode = code
  },
  (err: unknown) => {
    process.stderr.write(`npm run test:images failed: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exitCode = 1
  },
)
