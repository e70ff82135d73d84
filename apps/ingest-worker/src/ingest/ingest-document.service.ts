import { Injectable } from '@nestjs/common';
import type { TenantId } from '#libs/contracts';
import { DocumentExtraction } from '../extraction/document-extraction.service.js';
import { DocumentUnreadableError } from './document-unreadable.error.js';
import { IndexPublisher } from './index-publisher.js';
import { IngestBatches } from './ingest-batches.js';

/**
 * One document from raw upload to searchable chunks: extract, chunk, detect language, index,
 * publish. The Postgres steps are grouped with the other jobs in hand (IngestBatches); the
 * document's progress is written by them (10 when loaded, 100 when indexed).
 */
@Injectable()
export class IngestDocumentService {
  constructor(
    private readonly extraction: DocumentExtraction,
    private readonly batches: IngestBatches,
    private readonly publisher: IndexPublisher,
  ) {}

  /**
   * Indexes the document and returns its number of chunks, or null when the document was deleted
   * before or during the work (nothing to do then). Safe to run again: chunks are replaced.
   */
  async ingest(tenant: TenantId, documentId: string): Promise<number | null> {
    const document = await this.batches.claim(tenant, documentId);
    if (document === null) return null;
    if (document.body === null) throw new DocumentUnreadableError('The uploaded content is missing');

    // Off the event loop, within EXTRACTION_TIMEOUT_MS and EXTRACTION_MEMORY_MB.
    const chunks = await this.extraction.chunks(document.body, document.mimeType, document.metadata.lang);

    if (!(await this.batches.writeChunks(tenant, documentId, chunks))) return null;
    // After the commit, with the other documents written meanwhile: one version bump for all.
    if (!(await this.publisher.publish(tenant, documentId))) return null;
    return chunks.length;
  }
}
