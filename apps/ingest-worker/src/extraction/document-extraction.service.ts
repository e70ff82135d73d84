import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import type { ChunkInput } from '#libs/database';
import { DocumentUnreadableError } from '../ingest/document-unreadable.error.js';
import { ExtractionAbortedError, ExtractionPool } from './extraction-pool.js';

/**
 * Turns an upload into chunks in a sandboxed thread (ExtractionPool), within
 * EXTRACTION_TIMEOUT_MS and EXTRACTION_MEMORY_MB. Whatever the file does to the thread — hang,
 * exhaust its heap, overflow its stack — the document fails for good with a readable error:
 * the same bytes would do the same on every retry.
 */
@Injectable()
export class DocumentExtraction implements OnApplicationShutdown {
  private readonly pool: ExtractionPool;

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {
    this.pool = new ExtractionPool({
      threads: config.INGEST_CONCURRENCY,
      timeoutMs: config.EXTRACTION_TIMEOUT_MS,
      memoryMb: config.EXTRACTION_MEMORY_MB,
    });
  }

  async chunks(body: Buffer, mimeType: string, declaredLanguage: unknown): Promise<ChunkInput[]> {
    let outcome;
    try {
      outcome = await this.pool.run({
        // A copy the thread can own: `body` may be a view into a larger pooled buffer.
        body: new Uint8Array(body),
        mimeType,
        chunkSize: this.config.CHUNK_SIZE,
        chunkOverlap: this.config.CHUNK_OVERLAP,
        declaredLanguage,
        maxExpandedBytes: this.config.EXTRACTION_MEMORY_MB * 2 ** 20,
      });
    } catch (error) {
      if (error instanceof ExtractionAbortedError) throw new DocumentUnreadableError(error.message);
      throw error;
    }
    if (!outcome.ok) throw new DocumentUnreadableError(outcome.message);
    const { text } = outcome;
    return outcome.chunks.map((chunk) => ({
      content: text.slice(chunk.start, chunk.end),
      language: chunk.language,
      startOffset: chunk.start,
      endOffset: chunk.end,
    }));
  }

  /** After the ingest processor has drained: no job still waits on a thread. */
  async onApplicationShutdown(): Promise<void> {
    await this.pool.close();
  }
}
