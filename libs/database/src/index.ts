export * from './api-key-hash.js';
export * from './data-source.js';
export * from './database.module.js';
export * from './entities/index.js';
export * from './migrate.js';
export * from './repositories/api-keys.repository.js';
export * from './repositories/chunk-index.repository.js';
export * from './repositories/documents.repository.js';
