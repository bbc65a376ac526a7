// The images' build stages, reproduced without Docker: compiling only what
// each Dockerfile's build stage copies must produce the entrypoint its CMD
// starts, and the runtime stage's `COPY --from=build` path must exist in the
// real `npm run build` output (pretest builds before the tests run).
import t from 'tap'
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { join, posix } from 'node:path'
import { promisify } from 'node:util'
import { parseCopy, last } from './fixtures/dockerfile.js'
import { ROOT, imageStages, runtimeCommand, stageBuildContext } from './fixtures/image.js'

const run = promisify(execFile)
const IMAGES = ['Dockerfile.router', 'Dockerfile.node'] as const

for (const file of IMAGES) {
  t.test(`${file}: the build stage’s context alone compiles to the CMD entrypoint`, async (t) => {
    // GIVEN only the files the build stage COPYs
    const ctx = stageBuildContext(file)
    t.teardown(ctx.dispose)
    // WHEN the build stage's build command runs there
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
    const result = await run(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: ctx.dir }).then(
      () => ({ ok: true, out: '' }),
      (err: unknown) => ({ ok: false, out: err instanceof Error && 'stdout' in err ? String(err.stdout) : String(err) }),
    )
    // THEN it compiles and produces the entrypoint the runtime CMD starts
    t.ok(result.ok, `tsc -p tsconfig.build.json succeeds on the staged context${result.ok ? '' : `:\n${result.out}`}`)
    const { argv } = runtimeCommand(file)
    const entry = argv[1] ?? ''
    t.ok(existsSync(join(ctx.dir, entry)), `${entry} is produced by the build stage`)
  })

  t.test(`${file}: COPY --from=build sources exist in the real build output`, async (t) => {
    const { build, runtime } = imageStages(file)
    const wd = last(build, 'WORKDIR')?.args ?? '/'
    const fromBuild = runtime.instructions.filter((i) => i.keyword === 'COPY').map(parseCopy).filter((c) => c.from === 'build')
    t.ok(fromBuild.length > 0)
    for (const c of fromBuild) for (const src of c.sources) t.ok(existsSync(join(ROOT, posix.relative(wd, src))), `${src} → ${posix.relative(wd, src)} exists after npm run build`)
    const { argv } = runtimeCommand(file)
    t.ok(existsSync(join(ROOT, argv[1] ?? '?')), `${argv[1]} exists after npm run build`)
  })
}
