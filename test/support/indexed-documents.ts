import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { DEFAULT_TENANT, type TenantId } from '#libs/contracts';
import { ChunkIndexRepository, type TextSearchConfig } from '#libs/database';

export interface DocumentToIndex {
  chunks: { content: string; language: TextSearchConfig }[];
  tenant?: TenantId;
  collection?: string;
}

/**
 * A document row written straight to the database and its chunks through the real index writer
 * (so every trigger runs), without the API or a worker; returns the document id.
 */
export async function addIndexedDocument(dataSource: DataSource, document: DocumentToIndex): Promise<string> {
  const id = randomUUID();
  const tenant = document.tenant ?? DEFAULT_TENANT;
  await dataSource.query(`INSERT INTO tenants (name) VALUES ($1) ON CONFLICT DO NOTHING`, [tenant]);
  await dataSource.query(
    `INSERT INTO documents (id, tenant, collection, title, status, size_bytes, mime_type, content_sha256)
     VALUES ($1, $2, $3, '', 'processing', 1, 'text/plain', 'x')`,
    [id, tenant, document.collection ?? 'default'],
  );
  await new ChunkIndexRepository(dataSource).replaceChunks(
    tenant,
    id,
    document.chunks.map((chunk) => ({ ...chunk, startOffset: 0, endOffset: chunk.content.length })),
  );
  return id;
}
