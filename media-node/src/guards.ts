// Small shared checks for external data and errors: is a parsed JSON value an
// object, and the message of anything thrown.

/** A plain (non-array, non-null) object, e.g. a parsed JSON document. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The message of a thrown value, for logs and error texts. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
