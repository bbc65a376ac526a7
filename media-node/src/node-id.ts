// Node ids. The router resolves `<nodeId>.media.<namespace>`, so a node id must
// be a DNS label; these pure functions validate one and derive a default from
// the ECS task ARN or the hostname.

const DNS_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/

/** True when `value` is a DNS label: 1-63 of a-z, 0-9, '-', no '-' at either end. */
export function isDnsLabel(value: string): boolean {
  return DNS_LABEL.test(value)
}

/** The rule, for error messages. */
export const DNS_LABEL_RULE = "1-63 characters of a-z, 0-9 and '-', not starting or ending with '-'"

/**
 * The task id of an ECS task ARN (its last path segment, lower-cased), e.g.
 * `arn:aws:ecs:us-west-2:111122223333:task/default/8f03e41243824aea923aca126495f665`
 * → `8f03e41243824aea923aca126495f665`. Older ARNs carry a UUID, which is a
 * valid label too. Returns undefined when the ARN has no usable segment.
 */
export function nodeIdFromTaskArn(taskArn: string): string | undefined {
  const resource = taskArn.split(':').slice(5).join(':')
  if (!resource.startsWith('task/')) return undefined
  const id = resource.split('/').at(-1)?.toLowerCase() ?? ''
  return isDnsLabel(id) ? id : undefined
}

/**
 * A DNS label made from a hostname: lower-cased, every character outside
 * [a-z0-9] turned into '-', runs of '-' collapsed, trimmed to 63 characters.
 * Returns undefined when nothing usable is left.
 */
export function nodeIdFromHostname(hostname: string): string | undefined {
  const label = hostname
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+/, '')
    .slice(0, 63)
    .replace(/-+$/, '')
  return isDnsLabel(label) ? label : undefined
}
