// Public entry of the media node: `startMediaNode` and the types around it.

export { startMediaNode } from './node.js'
export type { AdminOptions, MediaNode, MediaNodeOptions } from './node.js'
export type { RegistrationOptions } from './registration.js'
export type { NodeStatus, StatusBody } from './server.js'
export type { DrainReport } from './drain.js'
export { DRAIN_CLOSE_CODE, DRAIN_CLOSE_REASON } from './drain.js'
export { TaskProtection } from './task-protection.js'
export type { TaskProtectionOptions, TaskProtectionReport } from './task-protection.js'
export type { Timers, TimerHandle } from './timers.js'
export { CLOSE_SLOW_CONSUMER } from './sessions.js'
export { isDnsLabel, nodeIdFromHostname, nodeIdFromTaskArn } from './node-id.js'
export { MediaNodeError, ConfigError } from './errors.js'
