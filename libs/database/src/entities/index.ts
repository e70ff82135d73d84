import { ApiKeyEntity } from './api-key.entity.js';
import { ChunkEntity } from './chunk.entity.js';
import { DocumentContentEntity } from './document-content.entity.js';
import { DocumentEntity } from './document.entity.js';

export { ApiKeyEntity, ChunkEntity, DocumentContentEntity, DocumentEntity };

/** Explicit list: entity globs break in a bundled or relocated build. */
export const ENTITIES = [ApiKeyEntity, ChunkEntity, DocumentContentEntity, DocumentEntity];
