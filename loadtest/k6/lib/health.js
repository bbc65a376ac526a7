// Readiness gate used by every scenario's setup(): the router must answer
// GET /health with 200 before any load is sent, otherwise the run aborts.

import http from 'k6/http'
import { fail, sleep } from 'k6'
import { BASE_URL } from './config.js'

/**
 * Polls GET <BASE_URL>/health a few times; fails the whole test unless it is 200.
 * @returns {{ baseUrl: string, startedAt: number }} setup data for the VUs
 */
export function requireHealthy() {
  const url = BASE_URL + '/health'
  let last = 'no response'
  for (let attempt = 0; attempt < 5; attempt++) {
    const res = http.get(url, { timeout: '5s', tags: { name: 'health' } })
    if (res.status === 200) return { baseUrl: BASE_URL, startedAt: Date.now() }
    last = res.status === 0 ? res.error : 'HTTP ' + res.status
    sleep(1)
  }
  return fail('router not ready: GET ' + url + ' -> ' + last + ' (check BASE_URL)')
}
