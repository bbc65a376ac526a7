// The machine's own Debian mirrors, read from its apt sources (one-line
// `sources.list` files and deb822 `.sources` files), so the base image is made
// from whatever mirror this machine uses and no URL is written into the repo.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

/** One `deb` repository: where, which suite, which components. */
export interface AptSource {
  readonly uri: string
  readonly suite: string
  readonly components: readonly string[]
}

/** `deb [options] uri suite component…` lines; comments, `deb-src` and blank lines skipped. */
export function parseOneLineSources(text: string): AptSource[] {
  const sources: AptSource[] = []
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').replace(/\[[^\]]*\]/, ' ').trim()
    const [type, uri, suite, ...components] = line.split(/\s+/)
    if (type !== 'deb' || uri === undefined || suite === undefined) continue
    sources.push({ uri, suite, components })
  }
  return sources
}

/** deb822 stanzas (`Types:`, `URIs:`, `Suites:`, `Components:`, `Enabled:`), one source per URI × suite. */
export function parseDeb822Sources(text: string): AptSource[] {
  const sources: AptSource[] = []
  const lines = text.split('\n').filter((l) => !l.startsWith('#'))
  for (const stanza of lines.join('\n').split(/\n\s*\n/)) {
    const fields = new Map<string, string>()
    let key = ''
    for (const line of stanza.split('\n')) {
      const m = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line)
      if (m !== null) {
        key = (m[1] ?? '').toLowerCase()
        fields.set(key, (m[2] ?? '').trim())
      } else if (/^\s/.test(line) && key !== '') {
        fields.set(key, `${fields.get(key) ?? ''} ${line.trim()}`)
      }
    }
    const words = (k: string): string[] => (fields.get(k) ?? '').split(/\s+/).filter((w) => w !== '')
    if (!words('types').includes('deb') || (fields.get('enabled') ?? 'yes').toLowerCase() === 'no') continue
    for (const uri of words('uris')) for (const suite of words('suites')) sources.push({ uri, suite, components: words('components') })
  }
  return sources
}

/** The sources for one Debian release: its suite and `<codename>-*` (updates, security). */
export function sourcesForRelease(sources: readonly AptSource[], codename: string): AptSource[] {
  return sources.filter((s) => s.suite === codename || s.suite.startsWith(`${codename}-`))
}

/** Every source apt reads on this machine: `sources.list` and `sources.list.d/*.{list,sources}`. */
export function readHostSources(aptDir = '/etc/apt'): AptSource[] {
  const sources: AptSource[] = []
  const main = join(aptDir, 'sources.list')
  if (existsSync(main)) sources.push(...parseOneLineSources(readFileSync(main, 'utf8')))
  const dir = join(aptDir, 'sources.list.d')
  const files = existsSync(dir) ? readdirSync(dir).sort() : []
  for (const f of files) {
    const text = (): string => readFileSync(join(dir, f), 'utf8')
    if (f.endsWith('.list')) sources.push(...parseOneLineSources(text()))
    else if (f.endsWith('.sources')) sources.push(...parseDeb822Sources(text()))
  }
  return sources
}

/** A source as a one-line `deb` entry, the form mmdebstrap takes as a mirror argument. */
export function toDebLine(s: AptSource): string {
  return ['deb', s.uri, s.suite, ...(s.components.length > 0 ? s.components : ['main'])].join(' ')
}
