// An endpoint's weight from its `weight` attribute: a whole number 0-10000;
// missing or malformed means 1, and 0 means "no traffic unless nothing else".

import type { Endpoint } from '../discovery/discovery.js'

export function weightOf(e: Endpoint): number {
  const w = e.attributes['weight']
  if (w === undefined || !/^\d{1,5}$/.test(w)) return 1
  return Math.min(10_000, Number(w))
}
