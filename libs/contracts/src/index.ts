export * from './documents.js';
export * from './events.js';
export * from './queues.js';
export * from './redis-keys.js';
export * from './tenants.js';
