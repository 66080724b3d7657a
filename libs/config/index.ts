export { DEFAULT_EGRESS_DENY, loadConfig, ownedPartitions, SETTINGS } from './config.js';
export type { AdminToken, Config, LogLevel, WriteKey } from './config.js';
export { ConfigCodes, ConfigError } from './errors.js';
export type { ConfigCode, ConfigIssue } from './errors.js';
export { parseDurationMs } from './duration.js';
export { parseCidr, type Cidr } from './cidr.js';
