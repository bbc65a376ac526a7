// Type guards for JSON read from outside (profiles, snapshots): checked as it
// is read instead of cast.

/** A plain JSON object (not null, not an array). */
export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}
