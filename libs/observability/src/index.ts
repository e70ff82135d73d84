export * from './logger.js';
export * from './metric-names.js';
