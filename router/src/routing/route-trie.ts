// The prefix tree routes are matched with: one tree of literal path segments
// per host key (exact host, `*.domain`, or any host). A node may end a
// fixed-prefix route and may hold a capture route (its next segment is the
// capture). A match walks at most one node per path segment, so its cost
// grows with the path's depth, never with the number of routes. Pure.

import type { Route } from './route.js'

export interface TrieNode {
  /** Literal segment → child; undefined while the node has none. */
  children: Map<string, TrieNode> | undefined
  /** The route whose prefix ends here (fixed prefix). */
  route: Route | undefined
  /** The route whose capture is the segment after this node. */
  capture: Route | undefined
}

export function newNode(): TrieNode {
  return { children: undefined, route: undefined, capture: undefined }
}

/** Insert `route`; returns the route already in its place (same host, segments and kind), if any. */
export function insert(root: TrieNode, route: Route): Route | undefined {
  let node = root
  for (const seg of route.segments) {
    node.children ??= new Map()
    let next = node.children.get(seg)
    if (next === undefined) {
      next = newNode()
      node.children.set(seg, next)
    }
    node = next
  }
  const existing = route.param !== undefined ? node.capture : node.route
  if (existing !== undefined) return existing
  if (route.param !== undefined) node.capture = route
  else node.route = route
  return undefined
}

/** Counts work done by a match (tests show it does not grow with the table). */
export interface MatchStatus {
  /** Trie nodes visited. */
  nodes: number
}

/** The result of a walk: the route and where in the path its prefix (capture included) ends. */
export interface TrieHit {
  readonly route: Route
  /** Index in `path` just past the matched prefix (0 for `/*`). */
  readonly end: number
  /** Start of the captured segment, or -1. */
  readonly captureStart: number
}

/**
 * Longest match of `path` (starts with '/', no query) in the tree: literal
 * segments as sent (no decoding, case-sensitive). At equal length a literal
 * route beats a capture route.
 */
export function walk(root: TrieNode, path: string, status?: MatchStatus): TrieHit | undefined {
  let node = root
  let best: TrieHit | undefined
  // `pos` is the index of the '/' before the next segment; `end` of the prefix consumed so far.
  let pos = 0
  let end = 0
  const len = path.length
  for (;;) {
    if (status !== undefined) status.nodes++
    if (node.route !== undefined) best = { route: node.route, end, captureStart: -1 }
    if (pos >= len) return best
    let next = path.indexOf('/', pos + 1)
    if (next === -1) next = len
    if (node.capture !== undefined) best = { route: node.capture, end: next, captureStart: pos + 1 }
    const child = node.children?.get(path.slice(pos + 1, next))
    if (child === undefined) return best
    node = child
    end = next
    pos = next
  }
}
