// Identifier generators shaped like Cloud Map's: `ns-` / `srv-` + 16 base32
// characters for namespaces and services, longer opaque ids for operations,
// `Z` + 13 characters for the (pretend) Route 53 hosted zone.

import { randomBytes } from 'node:crypto'

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567'

/** `length` random characters from a lower-case base32 alphabet. */
export function randomToken(length: number): string {
  const bytes = randomBytes(length)
  let out = ''
  for (const byte of bytes) out += ALPHABET[byte % 32]
  return out
}

export function newNamespaceId(): string {
  return `ns-${randomToken(16)}`
}

export function newServiceId(): string {
  return `srv-${randomToken(16)}`
}

export function newOperationId(): string {
  return `${randomToken(32)}-${randomToken(8)}`
}

export function newHostedZoneId(): string {
  return `Z${randomToken(13).toUpperCase()}`
}

/** A fixed pretend account for ARNs and owner fields. */
export const ACCOUNT_ID = '000000000000'
export const REGION = 'us-east-1'

export function namespaceArn(id: string): string {
  return `arn:aws:servicediscovery:${REGION}:${ACCOUNT_ID}:namespace/${id}`
}

export function serviceArn(id: string): string {
  return `arn:aws:servicediscovery:${REGION}:${ACCOUNT_ID}:service/${id}`
}
