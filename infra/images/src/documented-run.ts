// The way the README tells users to run an image: the `docker run … <image>`
// command in its shell examples. The image test reads the stop timeout from
// there, so it stops the containers exactly as documented.

/** Commands of the fenced shell code blocks (```sh, ```bash, ```), `\` continuations joined, comments dropped. */
export function shellCommands(markdown: string): string[] {
  const commands: string[] = []
  let lang: string | undefined // inside a fenced block: its language
  let pending = ''
  for (const line of markdown.split('\n')) {
    const fence = /^```(\S*)/.exec(line)
    if (fence !== null) {
      lang = lang === undefined ? (fence[1] ?? '') : undefined
      continue
    }
    if (lang === undefined || !['sh', 'bash', 'shell', ''].includes(lang)) continue
    const text = `${pending} ${line.replace(/(^|\s)#.*$/, '')}`.trim()
    if (text.endsWith('\\')) {
      pending = text.slice(0, -1)
      continue
    }
    pending = ''
    if (text !== '') commands.push(text.replace(/\s+/g, ' '))
  }
  return commands
}

/** The `--stop-timeout` (seconds) of the documented `docker run` of `image` (its last word). */
export function documentedStopTimeoutSeconds(markdown: string, image: string): number {
  const runs = shellCommands(markdown).filter((c) => /^docker run\s/.test(c) && c.split(/\s+/).at(-1) === image)
  if (runs.length !== 1) throw new Error(`expected one documented \`docker run … ${image}\`; found ${runs.length}`)
  const m = /\s--stop-timeout[= ](\d+)(\s|$)/.exec(runs[0] ?? '')
  if (m === null) throw new Error(`the documented \`docker run … ${image}\` sets no --stop-timeout`)
  return Number(m[1])
}
