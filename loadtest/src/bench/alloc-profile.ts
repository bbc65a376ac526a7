// Reads a V8 sampling heap profile (as written by alloc-sampler.ts) into
// typed values and sums it: total bytes and bytes per allocation site
// (function, script, line). Pure; the profile is checked as it is read.

import { isRecord } from '../lib/guards.js'

export interface AllocSite {
  /** "functionName file:line", the file shortened to its path under dist/ or node_modules/. */
  site: string
  bytes: number
}

export interface AllocSummary {
  totalBytes: number
  /** Largest first. */
  sites: AllocSite[]
}

interface ProfileNode {
  functionName: string
  url: string
  lineNumber: number
  selfSize: number
  children: ProfileNode[]
}

function readNode(v: unknown, depth: number): ProfileNode {
  if (depth > 2000) throw new Error('allocation profile: call tree deeper than 2000')
  if (!isRecord(v) || !isRecord(v['callFrame']) || typeof v['selfSize'] !== 'number' || !Array.isArray(v['children'])) {
    throw new Error('allocation profile: a node lacks callFrame, selfSize or children')
  }
  const cf = v['callFrame']
  const functionName = typeof cf['functionName'] === 'string' ? cf['functionName'] : ''
  const url = typeof cf['url'] === 'string' ? cf['url'] : ''
  const lineNumber = typeof cf['lineNumber'] === 'number' ? cf['lineNumber'] : -1
  return { functionName, url, lineNumber, selfSize: v['selfSize'], children: v['children'].map((c: unknown) => readNode(c, depth + 1)) }
}

/** Shortens a script URL to what a reader needs: dist/…, node_modules/…, node:… */
export function shortScript(url: string): string {
  const m = /\/((?:dist|node_modules)\/.*)$/.exec(url)
  if (m?.[1] !== undefined) return m[1]
  return url.replace(/^node:internal\//, 'node:')
}

/** Sums a profile (the JSON text alloc-sampler.ts wrote) by allocation site. */
export function summarizeAllocProfile(json: string): AllocSummary {
  const parsed: unknown = JSON.parse(json)
  if (!isRecord(parsed) || !('head' in parsed)) throw new Error('allocation profile: no head node')
  const bySite = new Map<string, number>()
  let totalBytes = 0
  const stack: ProfileNode[] = [readNode(parsed['head'], 0)]
  for (let node = stack.pop(); node !== undefined; node = stack.pop()) {
    if (node.selfSize > 0) {
      const where = node.url === '' ? '' : ` ${shortScript(node.url)}:${node.lineNumber + 1}`
      const site = `${node.functionName === '' ? '(anonymous)' : node.functionName}${where}`
      bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize)
      totalBytes += node.selfSize
    }
    stack.push(...node.children)
  }
  const sites = [...bySite].map(([site, bytes]) => ({ site, bytes })).sort((a, b) => b.bytes - a.bytes)
  return { totalBytes, sites }
}
