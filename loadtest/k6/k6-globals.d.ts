// Globals the k6 runtime provides that @types/k6 does not declare.
// Used only by the type check of the k6 scripts (tsconfig.json in this folder).

declare global {
  /** k6 prints these to its log (console.log/info/warn/error). */
  var console: {
    log(...args: unknown[]): void
    info(...args: unknown[]): void
    warn(...args: unknown[]): void
    error(...args: unknown[]): void
  }
}

export {}
