import { Injectable } from '@nestjs/common';
import type { TenantId } from '#libs/contracts';
import { DocumentExtraction } from '../extraction/document-extraction.service.js';
import { DocumentUnreadableError } from './document-unreadable.error.js';
import { IndexPublisher } from './index-publisher.js';
import { IngestBatches } from './ingest-batches.js';

/**
 * One document from raw upload to searchable chunks: extract, chunk, detect language, write,
 * and schedule its publication. The Postgres steps are grouped with the other jobs in hand (IngestBatches); the
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
   * Writes the document's chunks and returns their number, or null when the document was deleted
   * before or during the work (nothing to do then). Safe to run again: chunks are replaced. The
   * document says `indexed` only once published, a moment later (IndexPublisher).
   */
  async ingest(tenant: TenantId, documentId: string): Promise<number | null> {
    const document = await this.batches.claim(tenant, documentId);
    if (document === null) return null;
    if (document.body === null) throw new DocumentUnreadableError('The uploaded content is missing');

    // Off the event loop, within EXTRACTION_TIMEOUT_MS and EXTRACTION_MEMORY_MB.
    const chunks = await this.extraction.chunks(document.body, document.mimeType, document.metadata.lang);

    if (!(await this.batches.writeChunks(tenant, documentId, chunks))) return null;
    // Published with the other documents written meanwhile (one version bump for all), without
    // the job waiting for it: the document waits in Postgres, written (ADR 0030), so the job's
    // slot goes to the next upload at once.
    this.publisher.schedule(tenant, documentId);
    return chunks.length;
  }
}
