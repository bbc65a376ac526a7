// The base image the Dockerfiles name, and the npm version a Node release
// bundles (from the release's own CHANGELOG, newest section first).
import t from 'tap'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { bundledNpmVersion, nodeBaseOf } from '../../infra/images/src/node-dist.js'

const ROOT = join(import.meta.dirname, '..', '..')

t.test('both Dockerfiles build FROM one node:<x.y.z>-<debian>-slim image', async (t) => {
  const base = nodeBaseOf(['Dockerfile.router', 'Dockerfile.node'].map((f) => readFileSync(join(ROOT, f), 'utf8')))
  t.match(base, { ref: /^node:24\.\d+\.\d+-bookworm-slim$/, nodeVersion: /^24\./, codename: 'bookworm' })
})

t.test('stage names are ignored; two different bases, a digest or another image are refused', async (t) => {
  t.same(nodeBaseOf(['FROM node:24.1.2-trixie-slim AS build\nRUN x\nfrom node:24.1.2-trixie-slim as runtime\n']), { ref: 'node:24.1.2-trixie-slim', nodeVersion: '24.1.2', codename: 'trixie' })
  t.throws(() => nodeBaseOf(['FROM node:24.1.2-bookworm-slim\n', 'FROM node:24.1.3-bookworm-slim\n']), /one node/)
  t.throws(() => nodeBaseOf([`FROM node:24.1.2-bookworm-slim@sha256:${'a'.repeat(64)}\n`]), /no digest/)
  t.throws(() => nodeBaseOf(['FROM debian:bookworm-slim\n']), /expected node/)
  t.throws(() => nodeBaseOf(['RUN true\n']), /found none/)
})

t.test('bundled npm: the first "upgrade npm to" from the release’s section down', async (t) => {
  const changelog = [
    '<a id="24.12.0"></a>', '## Version 24.12.0', '* **deps**: upgrade npm to 11.7.0',
    '<a id="24.11.1"></a>', '## Version 24.11.1', '* **deps**: update undici', '* **deps**: upgrade npm to 11.6.2',
    '<a id="24.11.0"></a>', '## Version 24.11.0', '* nothing about npm',
    '<a id="24.10.0"></a>', '* **deps**: upgrade npm to 11.6.1',
  ].join('\n')
  t.equal(bundledNpmVersion(changelog, '24.11.1'), '11.6.2')
  t.equal(bundledNpmVersion(changelog, '24.11.0'), '11.6.1', 'a release without an upgrade bundles the previous one')
  t.equal(bundledNpmVersion(changelog, '24.12.0'), '11.7.0')
  t.throws(() => bundledNpmVersion(changelog, '24.9.9'), /no section/)
  t.throws(() => bundledNpmVersion('<a id="1.0.0"></a>\nno npm here', '1.0.0'), /no npm upgrade/)
})
