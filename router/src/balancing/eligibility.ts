// Which endpoints may receive new work: a pure filter on discovery attributes.
// DRAINING instances get no new WebSockets and no new balanced requests; a
// route may still let plain HTTP reach a draining instance (media /status).

import type { Endpoint } from '../discovery/discovery.js'

export type WorkKind = 'http' | 'websocket'

export function isDraining(e: Endpoint): boolean {
  const s = e.attributes['status']
  return s !== undefined && s.toUpperCase() === 'DRAINING'
}

export function eligibleEndpoints(endpoints: readonly Endpoint[], kind: WorkKind, drainingAcceptsHttp: boolean): readonly Endpoint[] {
  if (kind === 'http' && drainingAcceptsHttp) return endpoints
  let anyDraining = false
  for (const e of endpoints) if (isDraining(e)) anyDraining = true
  return anyDraining ? endpoints.filter((e) => !isDraining(e)) : endpoints
}
