// The podman calls the image test makes, all with our containers.conf (runc,
// file-descriptor limits), and typed reads of the JSON podman prints.
import { isRecord } from './json.js'
import { run, mustRun } from './run.js'
import type { RunResult } from './run.js'

/** What the checks read from `podman image inspect` (Docker-format config). */
export interface ImageConfig {
  readonly user: string
  readonly cmd: readonly string[]
  readonly stopSignal: string
  /** `KEY=value` entries. */
  readonly env: readonly string[]
  /** e.g. `8080/tcp`. */
  readonly exposedPorts: readonly string[]
  /** `Healthcheck.Test`, e.g. `["CMD", "node", "-e", "…"]`; empty when the image has none. */
  readonly healthcheck: readonly string[]
  /** Bytes, as podman reports the image's size. */
  readonly size: number
  readonly labels: Readonly<Record<string, string>>
}

/** One `podman history` entry (newest first). */
export interface HistoryEntry {
  readonly createdBy: string
  readonly size: number
}

/** An image id without the `sha256:` that `podman images` prefixes and `inspect` does not. */
const bareId = (id: string): string => id.trim().replace(/^sha256:/, '')

const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [])

/** A podman client for one containers.conf. */
export class Podman {
  readonly #env: Record<string, string>

  /** `containersConf`: the file every call gets as `CONTAINERS_CONF`. */
  constructor(containersConf: string) {
    this.#env = { CONTAINERS_CONF: containersConf }
  }

  /** `podman args…`, whatever its exit code. */
  run(args: readonly string[], cwd?: string): Promise<RunResult> {
    return run('podman', args, { env: this.#env, ...(cwd === undefined ? {} : { cwd }) })
  }

  /** `podman args…`, its stdout; throws on a non-zero exit. */
  must(args: readonly string[], cwd?: string): Promise<string> {
    return mustRun('podman', args, { env: this.#env, ...(cwd === undefined ? {} : { cwd }) })
  }

  async imageExists(ref: string): Promise<boolean> {
    return (await this.run(['image', 'exists', ref])).code === 0
  }

  /** Ids of every image in storage, intermediate ones included. */
  async imageIds(): Promise<Set<string>> {
    const out = await this.must(['images', '--all', '--quiet', '--no-trunc'])
    return new Set(out.split('\n').map(bareId).filter((l) => l !== ''))
  }

  async imageId(ref: string): Promise<string> {
    return bareId(await this.must(['image', 'inspect', '--format', '{{.Id}}', ref]))
  }

  async imageConfig(ref: string): Promise<ImageConfig> {
    const doc: unknown = JSON.parse(await this.must(['image', 'inspect', ref]))
    const image = Array.isArray(doc) ? doc[0] : undefined
    if (!isRecord(image) || !isRecord(image.Config)) throw new Error(`podman image inspect ${ref}: no Config`)
    const c = image.Config
    const labels: Record<string, string> = {}
    if (isRecord(c.Labels)) for (const [k, v] of Object.entries(c.Labels)) if (typeof v === 'string') labels[k] = v
    return {
      user: typeof c.User === 'string' ? c.User : '',
      cmd: strings(c.Cmd),
      stopSignal: typeof c.StopSignal === 'string' ? c.StopSignal : '',
      env: strings(c.Env),
      exposedPorts: isRecord(c.ExposedPorts) ? Object.keys(c.ExposedPorts) : [],
      healthcheck: isRecord(image.Healthcheck) ? strings(image.Healthcheck.Test) : [],
      size: typeof image.Size === 'number' ? image.Size : NaN,
      labels,
    }
  }

  async history(ref: string): Promise<HistoryEntry[]> {
    const doc: unknown = JSON.parse(await this.must(['history', '--no-trunc', '--format', 'json', ref]))
    if (!Array.isArray(doc)) throw new Error(`podman history ${ref}: not a list`)
    return doc.map((e: unknown) => {
      if (!isRecord(e) || typeof e.size !== 'number') throw new Error(`podman history ${ref}: entry without a size`)
      return { createdBy: typeof e.CreatedBy === 'string' ? e.CreatedBy : typeof e.createdBy === 'string' ? e.createdBy : '', size: e.size }
    })
  }

  /** A container's exit code once it stopped. */
  async exitCode(container: string): Promise<number> {
    return Number((await this.must(['inspect', '--format', '{{.State.ExitCode}}', container])).trim())
  }

  /** Remove containers and images, ignoring the ones already gone. */
  async remove(containers: readonly string[], images: readonly string[]): Promise<void> {
    if (containers.length > 0) await this.run(['rm', '--force', '--ignore', ...containers])
    if (images.length > 0) await this.run(['rmi', '--force', ...images])
  }
}
