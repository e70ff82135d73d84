export * from './logger.js';
export * from './metric-names.js';
export * from './metrics-token.js';
export * from './bounded-checks.js';
export * from './tenant-label.js';
