import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import type { TenantId } from '#libs/contracts';
import { CorpusEvents } from '#libs/corpus';
import { ChunkIndexRepository, DocumentsRepository, type ChunkInput } from '#libs/database';
import { chunkText } from './chunker.js';
import { DocumentUnreadableError } from './document-unreadable.error.js';
import { detectLanguage } from './language.js';
import { extractDocumentText } from './text-extraction.js';

/** Milestones reported while a document is processed: a few steps, not one per chunk. */
export const IngestStep = { Loaded: 10, Extracted: 40, Chunked: 70, Indexed: 100 } as const;

export type ProgressReporter = (percent: number) => Promise<void>;

/** One document from raw upload to searchable chunks: extract, chunk, detect language, index, announce. */
@Injectable()
export class IngestDocumentService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly documents: DocumentsRepository,
    private readonly chunkIndex: ChunkIndexRepository,
    private readonly corpusEvents: CorpusEvents,
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
    if (body === null) throw new DocumentUnreadableError('The uploaded content is missing');
    await reportProgress(IngestStep.Loaded);

    const text = await extractDocumentText(body, document.mimeType);
    await reportProgress(IngestStep.Extracted);

    const declaredLanguage = document.metadata.lang;
    const chunks: ChunkInput[] = chunkText(text, {
      size: this.config.CHUNK_SIZE,
      overlap: this.config.CHUNK_OVERLAP,
    }).map((chunk) => ({
      content: chunk.content,
      language: detectLanguage(chunk.content, declaredLanguage),
      startOffset: chunk.start,
      endOffset: chunk.end,
    }));
    await reportProgress(IngestStep.Chunked);

    if (!(await this.chunkIndex.replaceChunks(tenant, documentId, chunks))) return null;
    // After the commit, so a gateway that hears the event and re-reads finds the new chunks.
    await this.corpusEvents.corpusChanged(tenant, 'indexed', documentId);
    return chunks.length;
  }
}
