export * from './answer-cache.module.js';
export * from './answer-demand.js';
export * from './answer-store.js';
export * from './query-key.js';
export * from './stored-answer.js';
