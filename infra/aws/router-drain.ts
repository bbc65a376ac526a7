// The router's drain as ECS sees it, in seconds. After SIGTERM the router
// (router/src/lifecycle/drain.ts) keeps serving with /health 503 for the
// delay, then waits for in-flight HTTP, then for WebSockets — one after the
// other — and gives up on its own 10 s after the sum (exit 1). The container
// stop timeout must cover all of it, or SIGKILL cuts the drain short.
// Shared by the config validation, the router service and the stack.

/** ECS's largest container `stopTimeout`. */
export const MAX_STOP_TIMEOUT_SECONDS = 120

/** Seconds the stop timeout adds to the drain timeouts: the router's own hard-limit margin. */
export const STOP_TIMEOUT_MARGIN_SECONDS = 10

/** `DRAIN_HTTP_TIMEOUT_MS` the router service sets, in seconds: in-flight HTTP gets at most 30 s. */
export function drainHttpTimeoutSeconds(drainTimeoutSeconds: number): number {
  return Math.min(30, drainTimeoutSeconds)
}

/** The container stop timeout for a drain: delay + in-flight HTTP + WebSockets + the margin. */
export function routerStopTimeoutSeconds(drainDelaySeconds: number, drainTimeoutSeconds: number): number {
  return drainDelaySeconds + drainHttpTimeoutSeconds(drainTimeoutSeconds) + drainTimeoutSeconds + STOP_TIMEOUT_MARGIN_SECONDS
}
