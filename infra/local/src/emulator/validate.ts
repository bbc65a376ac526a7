// Typed readers for request JSON. Every request body is `unknown` until one of
// these accepts it; a missing or mistyped field becomes an AWS `InvalidInput`
// error naming the field, never a crash or an unchecked cast.

import { invalidInput } from './aws-errors.js'

export type JsonObject = Readonly<Record<string, unknown>>

/** True for a plain JSON object (not null, not an array). */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The value as an object, or InvalidInput naming `what`. */
export function asObject(value: unknown, what: string): JsonObject {
  if (!isObject(value)) throw invalidInput(`${what} must be an object`)
  return value
}

interface StringRules {
  readonly min?: number
  readonly max?: number
  readonly pattern?: RegExp
}

function checkString(value: unknown, field: string, rules: StringRules): string {
  if (typeof value !== 'string') throw invalidInput(`${field} must be a string`)
  const min = rules.min ?? 0
  if (value.length < min) throw invalidInput(`${field} must be at least ${min} characters`)
  if (rules.max !== undefined && value.length > rules.max) throw invalidInput(`${field} must be at most ${rules.max} characters`)
  if (rules.pattern !== undefined && !rules.pattern.test(value)) throw invalidInput(`${field} has an invalid value`)
  return value
}

/** A required string member. */
export function requiredString(obj: JsonObject, key: string, rules: StringRules = {}, path = key): string {
  const value = obj[key]
  if (value === undefined || value === null) throw invalidInput(`${path} is required`)
  return checkString(value, path, rules)
}

/** An optional string member (absent or null → undefined). */
export function optionalString(obj: JsonObject, key: string, rules: StringRules = {}, path = key): string | undefined {
  const value = obj[key]
  if (value === undefined || value === null) return undefined
  return checkString(value, path, rules)
}

/** An optional integer member within [min, max]. */
export function optionalInteger(obj: JsonObject, key: string, min: number, max: number, path = key): number | undefined {
  const value = obj[key]
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'number' || !Number.isInteger(value)) throw invalidInput(`${path} must be an integer`)
  if (value < min || value > max) throw invalidInput(`${path} must be between ${min} and ${max}`)
  return value
}

/** A required integer member within [min, max]. */
export function requiredInteger(obj: JsonObject, key: string, min: number, max: number, path = key): number {
  const value = optionalInteger(obj, key, min, max, path)
  if (value === undefined) throw invalidInput(`${path} is required`)
  return value
}

/** An optional member that must be one of `allowed`. */
export function optionalEnum<T extends string>(obj: JsonObject, key: string, allowed: readonly T[], path = key): T | undefined {
  const value = obj[key]
  if (value === undefined || value === null) return undefined
  const found = allowed.find((candidate) => candidate === value)
  if (found === undefined) throw invalidInput(`${path} must be one of ${allowed.join(', ')}`)
  return found
}

/** A required member that must be one of `allowed`. */
export function requiredEnum<T extends string>(obj: JsonObject, key: string, allowed: readonly T[], path = key): T {
  const value = optionalEnum(obj, key, allowed, path)
  if (value === undefined) throw invalidInput(`${path} is required`)
  return value
}

/** An optional member that must be an object. */
export function optionalObject(obj: JsonObject, key: string, path = key): JsonObject | undefined {
  const value = obj[key]
  if (value === undefined || value === null) return undefined
  return asObject(value, path)
}

/** An optional array member; each item is read by `item`. */
export function optionalArray<T>(obj: JsonObject, key: string, item: (value: unknown, path: string) => T, path = key): T[] | undefined {
  const value = obj[key]
  if (value === undefined || value === null) return undefined
  if (!Array.isArray(value)) throw invalidInput(`${path} must be a list`)
  return value.map((entry: unknown, index) => item(entry, `${path}[${index}]`))
}

// Cloud Map's Attributes map: AttrKey ^[a-zA-Z0-9!-~]+$ (≤255), AttrValue ≤1024.
const ATTR_KEY = /^[a-zA-Z0-9!-~]+$/
const ATTR_VALUE = /^([a-zA-Z0-9!-~][ \ta-zA-Z0-9!-~]*){0,1}[a-zA-Z0-9!-~]{0,1}$/

/** An optional string→string map member with Cloud Map's attribute rules. */
export function optionalAttributes(obj: JsonObject, key: string, path = key): Record<string, string> | undefined {
  const value = obj[key]
  if (value === undefined || value === null) return undefined
  const map = asObject(value, path)
  const out: Record<string, string> = {}
  for (const [name, attr] of Object.entries(map)) {
    checkString(name, `${path} key`, { min: 1, max: 255, pattern: ATTR_KEY })
    out[name] = checkString(attr, `${path}.${name}`, { max: 1024, pattern: ATTR_VALUE })
  }
  return out
}
