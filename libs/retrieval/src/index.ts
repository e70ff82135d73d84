export * from './answer-composer.js';
export * from './answer.service.js';
export * from './corpus-stats-cache.js';
export * from './query-parser.js';
export * from './retrieval.module.js';
export * from './retriever.js';
export * from './sentences.js';
