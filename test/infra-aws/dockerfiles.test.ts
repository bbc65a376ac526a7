// Static checks of Dockerfile.router and Dockerfile.node for what building and
// running them cannot show: every stage builds FROM the same pinned Node 24 LTS
// slim tag (no digest: `npm run test:images` makes that base locally from the
// tag), and nothing secret is baked in. Everything a build proves — COPY
// sources, the compiled entrypoint, USER, HEALTHCHECK, STOPSIGNAL, EXPOSE, the
// production-only node_modules, PID 1 — is checked on the real images and
// containers by `npm run test:images` (infra/images/).
import t from 'tap'
import { join } from 'node:path'
import { parseStages, readDockerfile } from './fixtures/dockerfile.js'

const ROOT = join(import.meta.dirname, '..', '..')
const FILES = ['Dockerfile.router', 'Dockerfile.node'] as const

t.test('the parser understands what it reads (and would notice a change)', async (t) => {
  const stages = parseStages('FROM a:1 AS build\nRUN x \\\n  y\n# c\nFROM a:1\nENV A=1\n')
  t.same(stages.map((s) => [s.image, s.name, s.instructions.map((i) => `${i.keyword} ${i.args}`)]), [
    ['a:1', 'build', ['RUN x y']],
    ['a:1', undefined, ['ENV A=1']],
  ])
  t.throws(() => parseStages('RUN x\n'), /before FROM/)
  t.equal(readDockerfile(join(ROOT, 'Dockerfile.router')).length, 2)
})

t.test('every stage of both images builds FROM one pinned Node 24 LTS slim tag', async (t) => {
  const images = new Set(FILES.flatMap((f) => readDockerfile(join(ROOT, f)).map((s) => s.image)))
  t.equal(images.size, 1, `one base for all stages: ${[...images].join(', ')}`)
  for (const image of images) t.match(image, /^node:24\.\d+\.\d+-bookworm-slim$/, `${image}: exact version, Debian slim`)
})

for (const file of FILES) {
  t.test(`${file}: no secrets baked in`, async (t) => {
    for (const s of readDockerfile(join(ROOT, file))) {
      for (const ins of s.instructions) {
        if (ins.keyword === 'ENV' || ins.keyword === 'ARG') t.notMatch(ins.args, /(SECRET|TOKEN|PASSWORD|PASSWD|PRIVATE|ACCESS_KEY|CREDENTIAL)/i, `line ${ins.line}: ${ins.keyword} has no secret`)
        if (ins.keyword === 'ADD') t.fail(`line ${ins.line}: use COPY, not ADD`)
        t.notMatch(ins.args, /AKIA[0-9A-Z]{16}/, 'no AWS key id')
      }
    }
  })
}
