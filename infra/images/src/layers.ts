// Which layers of an image are ours: the image's history (newest first) ends
// with its base image's history; everything before that was added by our
// Dockerfile's final stage.
import type { HistoryEntry } from './podman.js'

/** The entries of `image`'s history above `base`; throws if `image` is not built on `base`. */
export function ourLayers(image: readonly HistoryEntry[], base: readonly HistoryEntry[]): HistoryEntry[] {
  const ours = image.length - base.length
  const tail = image.slice(ours)
  if (ours < 0 || tail.some((e, i) => e.createdBy !== base[i]?.createdBy || e.size !== base[i]?.size)) {
    throw new Error('the image history does not end with the base image history: not built on this base')
  }
  return image.slice(0, ours)
}
