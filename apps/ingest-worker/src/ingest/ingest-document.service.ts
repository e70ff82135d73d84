import { Injectable } from '@nestjs/common';
import type { TenantId } from '#libs/contracts';
import { ChunkIndexRepository, DocumentsRepository } from '#libs/database';
import { DocumentExtraction } from '../extraction/document-extraction.service.js';
import { DocumentUnreadableError } from './document-unreadable.error.js';
import { IndexPublisher } from './index-publisher.js';

/** Milestones reported while a document is processed: a few steps, not one per chunk. */
export const IngestStep = { Loaded: 10, Chunked: 70, Indexed: 100 } as const;

export type ProgressReporter = (percent: number) => Promise<void>;

/** One document from raw upload to searchable chunks: extract, chunk, detect language, index, publish. */
@Injectable()
export class IngestDocumentService {
  constructor(
    private readonly extraction: DocumentExtraction,
    private readonly documents: DocumentsRepository,
    private readonly chunkIndex: ChunkIndexRepository,
    private readonly publisher: IndexPublisher,
  ) {}

  /**
   * Indexes the document and returns its number of chunks, or null when the document was deleted
   * before or during the work (nothing to do then). Safe to run again: chunks are replaced.
   */
  async ingest(
    tenant: TenantId,
    documentId: string,
    reportProgress: ProgressReporter,
  ): Promise<number | null> {
    if (!(await this.documents.markProcessing(tenant, documentId))) return null;
    const [document, body] = await Promise.all([
      this.documents.findById(tenant, documentId),
      this.documents.loadContent(tenant, documentId),
    ]);
    if (document === null) return null;
    if (body === null) {
      // The two reads are not one snapshot: a delete between them leaves the row read and the
      // upload gone. That document is deleted, not unreadable (its job must not fail).
      if ((await this.documents.findById(tenant, documentId)) === null) return null;
      throw new DocumentUnreadableError('The uploaded content is missing');
    }
    await reportProgress(IngestStep.Loaded);

    // Off the event loop, within EXTRACTION_TIMEOUT_MS and EXTRACTION_MEMORY_MB.
    const chunks = await this.extraction.chunks(body, document.mimeType, document.metadata.lang);
    await reportProgress(IngestStep.Chunked);

    if (!(await this.chunkIndex.replaceChunks(tenant, documentId, chunks))) return null;
    // After the commit, with the other documents written meanwhile: one version bump for all.
    if (!(await this.publisher.publish(tenant, documentId))) return null;
    return chunks.length;
  }
}
