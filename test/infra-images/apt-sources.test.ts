// The machine's Debian mirrors, read from apt's own files: one-line and deb822
// formats, disabled entries and deb-src skipped, only the files apt reads.
import t from 'tap'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseDeb822Sources, parseOneLineSources, readHostSources, sourcesForRelease, toDebLine } from '../../infra/images/src/apt-sources.js'

t.test('one-line sources: options, comments and deb-src', async (t) => {
  const text = [
    '# a comment',
    'deb [arch=amd64 signed-by=/usr/share/keyrings/k.gpg] http://mirror.example/debian bookworm main contrib',
    'deb-src http://mirror.example/debian bookworm main',
    'deb http://security.example/debian-security bookworm-security main # trailing',
    '',
  ].join('\n')
  t.same(parseOneLineSources(text), [
    { uri: 'http://mirror.example/debian', suite: 'bookworm', components: ['main', 'contrib'] },
    { uri: 'http://security.example/debian-security', suite: 'bookworm-security', components: ['main'] },
  ])
})

t.test('deb822: one source per URI × suite; Enabled: no and deb-src only skipped; folded lines', async (t) => {
  const text = [
    'Types: deb deb-src',
    'URIs: http://a.example/debian http://b.example/debian',
    'Suites: bookworm bookworm-updates',
    'Components: main',
    ' non-free-firmware',
    'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
    '',
    'Types: deb',
    'URIs: http://off.example/debian',
    'Suites: bookworm',
    'Components: main',
    'Enabled: no',
    '',
    '# comment',
    'Types: deb-src',
    'URIs: http://src.example/debian',
    'Suites: bookworm',
    'Components: main',
  ].join('\n')
  const components = ['main', 'non-free-firmware']
  t.same(parseDeb822Sources(text), [
    { uri: 'http://a.example/debian', suite: 'bookworm', components },
    { uri: 'http://a.example/debian', suite: 'bookworm-updates', components },
    { uri: 'http://b.example/debian', suite: 'bookworm', components },
    { uri: 'http://b.example/debian', suite: 'bookworm-updates', components },
  ])
})

t.test('the release’s suites only, as mmdebstrap mirror lines', async (t) => {
  const all = parseOneLineSources(['deb http://m/debian bookworm main', 'deb http://m/debian bookworm-updates main', 'deb http://n/x nodistro main', 'deb http://m/debian trixie main'].join('\n'))
  t.same(sourcesForRelease(all, 'bookworm').map(toDebLine), ['deb http://m/debian bookworm main', 'deb http://m/debian bookworm-updates main'])
  t.equal(toDebLine({ uri: 'http://m/debian', suite: 'bookworm', components: [] }), 'deb http://m/debian bookworm main')
})

t.test('reads sources.list and sources.list.d/*.list|*.sources, as apt does (not *.disabled)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'apt-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  mkdirSync(join(dir, 'sources.list.d'))
  writeFileSync(join(dir, 'sources.list'), 'deb http://one/debian bookworm main\n')
  writeFileSync(join(dir, 'sources.list.d', 'debian.sources'), 'Types: deb\nURIs: http://two/debian\nSuites: bookworm-updates\nComponents: main\n')
  writeFileSync(join(dir, 'sources.list.d', 'extra.list'), 'deb http://three/debian-security bookworm-security main\n')
  writeFileSync(join(dir, 'sources.list.d', 'old.sources.disabled'), 'Types: deb\nURIs: http://off/\nSuites: bookworm\nComponents: main\n')
  t.same(readHostSources(dir).map((s) => s.uri), ['http://one/debian', 'http://two/debian', 'http://three/debian-security'])
})
