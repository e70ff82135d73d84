import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import type { TenantId } from '#libs/contracts';
import {
  ChunkIndexRepository,
  DocumentsRepository,
  type ChunkInput,
  type ClaimedDocument,
  type DocumentChunks,
  type DocumentRef,
} from '#libs/database';
import { GroupCommit, withFallback } from './group-commit.js';

/**
 * Chunk-writing transactions one worker runs at once: inserting postings is Postgres CPU, and a
 * second transaction lets it use a second core while the first commits. More would only split
 * the groups. (The corpus_stats triggers lock their rows in key order: no deadlock between them.)
 * A write group holds at most this fraction of the jobs in hand: were one group all of them, no
 * job would be left to claim and extract meanwhile, and the two steps would take turns instead
 * of overlapping (ADR 0030).
 */
const WRITE_GROUPS_IN_FLIGHT = 2;

/**
 * The ingest worker's two Postgres steps, each shared by every job in hand (ADR 0027): starting
 * the attempt (mark `processing`, read the upload) and writing the chunks. Jobs that reach a step
 * while the previous group is in flight go together in the next one: one statement (claims) or
 * one transaction (chunks) for up to INGEST_BATCH_SIZE documents, instead of one each. A group
 * that fails is retried document by document, so a document that breaks it fails alone.
 */
@Injectable()
export class IngestBatches {
  private readonly claims: GroupCommit<DocumentRef, ClaimedDocument | null>;
  private readonly writes: GroupCommit<DocumentChunks, boolean>;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    documents: DocumentsRepository,
    chunkIndex: ChunkIndexRepository,
  ) {
    const claimMany = async (refs: DocumentRef[]): Promise<(ClaimedDocument | null)[]> => {
      const claimed = await documents.claimForIngest(refs);
      return refs.map((ref) => claimed.get(ref.id) ?? null);
    };
    this.claims = new GroupCommit(
      withFallback(claimMany, async (ref) => (await claimMany([ref]))[0] ?? null),
      config.INGEST_BATCH_SIZE,
    );
    this.writes = new GroupCommit(
      withFallback(
        async (groups: DocumentChunks[]) => {
          const written = await chunkIndex.replaceChunksOfMany(groups);
          return groups.map((group) => written.has(group.documentId));
        },
        (group) => chunkIndex.replaceChunks(group.tenant, group.documentId, group.chunks),
      ),
      Math.ceil(config.INGEST_BATCH_SIZE / WRITE_GROUPS_IN_FLIGHT),
      WRITE_GROUPS_IN_FLIGHT,
    );
  }

  /** Starts an attempt: the document marked `processing` and its upload, or null when it was deleted. */
  claim(tenant: TenantId, id: string): Promise<ClaimedDocument | null> {
    return this.claims.submit({ tenant, id });
  }

  /** Replaces the document's chunks once its group commits; false when it was deleted meanwhile. */
  writeChunks(tenant: TenantId, documentId: string, chunks: ChunkInput[]): Promise<boolean> {
    return this.writes.submit({ tenant, documentId, chunks });
  }
}
