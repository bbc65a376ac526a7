// Static checks of Dockerfile.router and Dockerfile.node: multi-stage build
// (dev deps to build, `npm ci --omit=dev` to run), pinned Node 24 LTS slim
// base, non-root user, exec-form CMD, HEALTHCHECK, STOPSIGNAL, no secrets,
// and every COPY source present in the build context.
import t from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import { join, posix } from 'node:path'
import { envOf, execForm, isIgnored, last, parseCopy, readDockerfile, readDockerignore } from './fixtures/dockerfile.js'
import type { Stage } from './fixtures/dockerfile.js'

const ROOT = join(import.meta.dirname, '..', '..')
const IGNORE = readDockerignore(join(ROOT, '.dockerignore'))
const tsconfig: unknown = JSON.parse(readFileSync(join(ROOT, 'tsconfig.json'), 'utf8'))
const OUT_DIR = typeof tsconfig === 'object' && tsconfig !== null && 'compilerOptions' in tsconfig ? String((tsconfig.compilerOptions as { outDir?: unknown }).outDir) : 'dist'

/** The two images: file, source folder, entrypoint. */
export const IMAGES = [
  { file: 'Dockerfile.router', src: 'router/src', main: 'dist/router/src/main.js' },
  { file: 'Dockerfile.node', src: 'media-node/src', main: 'dist/media-node/src/main.js' },
] as const

function workdir(stage: Stage): string {
  return last(stage, 'WORKDIR')?.args ?? '/'
}

t.test('the parser understands what it reads (and would notice a change)', async (t) => {
  const stages = readDockerfile(join(ROOT, 'Dockerfile.router'))
  t.equal(stages.length, 2)
  t.same(execForm('["node", "x.js"]'), ['node', 'x.js'])
  t.equal(execForm('node x.js'), undefined, 'shell form is not exec form')
  t.ok(isIgnored(IGNORE, 'node_modules'))
  t.ok(isIgnored(IGNORE, 'infra/aws/cdk.out/x.json'))
  t.notOk(isIgnored(IGNORE, 'router/src'))
})

for (const image of IMAGES) {
  t.test(image.file, async (t) => {
    const stages = readDockerfile(join(ROOT, image.file))
    const build = stages.find((s) => s.name === 'build')
    const runtime = stages[stages.length - 1]
    if (build === undefined || runtime === undefined) throw new Error('needs a build stage and a final stage')

    t.test('multi-stage, every base pinned to a Node 24 LTS slim tag', async (t) => {
      t.ok(stages.length >= 2, 'at least two stages')
      t.not(runtime, build, 'the final stage is not the build stage')
      for (const s of stages) t.match(s.image, /^node:24\.\d+\.\d+-bookworm-slim(@sha256:[0-9a-f]{64})?$/, `${s.name ?? '?'}: ${s.image} pinned`)
    })

    t.test('build stage: full npm ci (dev dependencies) then npm run build', async (t) => {
      const runs = build.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args)
      const ci = runs.findIndex((r) => /\bnpm ci\b/.test(r))
      t.ok(ci >= 0, 'npm ci')
      t.notMatch(runs[ci] ?? '', /--omit=dev|--production/, 'build installs dev dependencies (tsc)')
      t.ok(runs.findIndex((r) => /\bnpm run build\b/.test(r)) > ci, 'npm run build after npm ci')
    })

    t.test('runtime stage: production dependencies only, no build tooling copied over', async (t) => {
      const runs = runtime.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args)
      t.ok(runs.some((r) => /\bnpm ci\b[^&]*--omit=dev/.test(r)), 'npm ci --omit=dev')
      t.notOk(runs.some((r) => /\bnpm (install|i)\b/.test(r)), 'no npm install')
      const copies = runtime.instructions.filter((i) => i.keyword === 'COPY').map(parseCopy)
      for (const c of copies) for (const s of c.sources) t.notMatch(s, /node_modules/, 'node_modules never copied from the build stage')
      t.equal(envOf(runtime).NODE_ENV, 'production')
    })

    t.test('non-root USER before CMD', async (t) => {
      const user = last(runtime, 'USER')
      t.ok(user, 'USER set')
      t.notMatch(user?.args ?? 'root', /^(root|0)(:|$)/, 'not root')
      const cmd = last(runtime, 'CMD')
      t.ok((user?.line ?? Infinity) < (cmd?.line ?? -1), 'USER comes before CMD')
    })

    t.test('exec-form CMD starts the built entrypoint with node', async (t) => {
      const cmd = last(runtime, 'CMD')
      const argv = execForm(cmd?.args ?? '')
      t.ok(argv, 'CMD is a JSON array (exec form): SIGTERM reaches node, not a shell')
      t.same(argv, ['node', image.main])
      t.equal(last(runtime, 'ENTRYPOINT'), undefined, 'no ENTRYPOINT wrapper')
    })

    t.test('HEALTHCHECK in exec form on /health, STOPSIGNAL SIGTERM, EXPOSE the PORT', async (t) => {
      const hc = last(runtime, 'HEALTHCHECK')
      t.ok(hc, 'HEALTHCHECK present')
      const m = /^((?:--[a-z-]+=\S+\s+)*)CMD\s+(\[.*\])$/.exec(hc?.args ?? '')
      t.ok(m, 'HEALTHCHECK [options] CMD [exec form]')
      const argv = execForm(m?.[2] ?? '[]') ?? []
      t.equal(argv[0], 'node', 'uses node (slim images have no curl)')
      t.match(argv.join(' '), /\/health/)
      t.match(m?.[1] ?? '', /--interval=\d+s/)
      t.equal(last(runtime, 'STOPSIGNAL')?.args, 'SIGTERM')
      const port = envOf(runtime).PORT
      t.equal(port, '8080')
      t.ok((last(runtime, 'EXPOSE')?.args ?? '').split(/\s+/).includes(port ?? '?'), 'EXPOSE includes PORT')
    })

    t.test('no secrets baked in', async (t) => {
      for (const s of stages) {
        for (const ins of s.instructions) {
          if (ins.keyword === 'ENV' || ins.keyword === 'ARG') t.notMatch(ins.args, /(SECRET|TOKEN|PASSWORD|PASSWD|PRIVATE|ACCESS_KEY|CREDENTIAL)/i, `line ${ins.line}: ${ins.keyword} has no secret`)
          if (ins.keyword === 'ADD') t.fail(`line ${ins.line}: use COPY, not ADD`)
          t.notMatch(ins.args, /AKIA[0-9A-Z]{16}/, 'no AWS key id')
        }
      }
    })

    t.test('every context COPY source exists in the repo and is not .dockerignored', async (t) => {
      const copies = stages.flatMap((s) => s.instructions.filter((i) => i.keyword === 'COPY').map(parseCopy)).filter((c) => c.from === undefined)
      t.ok(copies.length >= 3)
      for (const c of copies) {
        for (const src of c.sources) {
          t.ok(existsSync(join(ROOT, src)), `${src} exists`)
          t.notOk(isIgnored(IGNORE, src), `${src} is in the build context`)
        }
      }
      t.ok(copies.some((c) => c.sources.includes(image.src)), `build copies ${image.src}`)
    })

    t.test('COPY --from=build takes a path the build produces, and the CMD entrypoint lies inside it', async (t) => {
      const fromBuild = runtime.instructions.filter((i) => i.keyword === 'COPY').map(parseCopy).filter((c) => c.from === 'build')
      t.equal(fromBuild.length, 1)
      const copy = fromBuild[0]
      const src = copy?.sources[0] ?? ''
      // tsc (rootDir ".", outDir from tsconfig.json) turns <src>/x.ts into <outDir>/<src>/x.js.
      const top = image.src.split('/')[0] ?? ''
      t.equal(src, posix.join(workdir(build), OUT_DIR, top), 'copies the compiled output of the source folder')
      const dest = posix.resolve(workdir(runtime), copy?.dest ?? '')
      t.ok(posix.resolve(workdir(runtime), image.main).startsWith(`${dest}/`), 'entrypoint is inside the copied folder')
    })
  })
}
