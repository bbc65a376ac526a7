// Public entry of the media node: `startMediaNode` and the types around it.

export { startMediaNode } from './node.js'
export type { MediaNode, MediaNodeOptions } from './node.js'
export type { RegistrationOptions } from './registration.js'
export type { NodeStatus, StatusBody } from './server.js'
export { CLOSE_SLOW_CONSUMER } from './sessions.js'
export { isDnsLabel, nodeIdFromHostname, nodeIdFromTaskArn } from './node-id.js'
export { MediaNodeError, ConfigError } from './errors.js'
