export * from './corpus-events.js';
export * from './corpus-version.js';
export * from './corpus.module.js';
