export * from './worker-health.js';
export * from './worker-http-server.js';
export * from './worker-http.module.js';
export * from './worker-metrics.js';
