import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { TenantId } from '#libs/contracts';

/** A passage of a document. `tsv` and the `chunk_terms` postings are written by SQL in the index repositories. */
@Entity({ name: 'chunks' })
export class ChunkEntity {
  /** bigint: node-postgres returns it as a string, which is also how the API shows it. */
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  /** Its document's tenant, copied so that postings and corpus totals can be kept per tenant. */
  @Column({ type: 'text' })
  tenant!: TenantId;

  @Column({ name: 'document_id', type: 'uuid' })
  documentId!: string;

  @Column({ type: 'integer' })
  ordinal!: number;

  @Column({ type: 'text' })
  content!: string;

  /** Text-search configuration the chunk was indexed with: 'english', 'russian' or 'simple'. */
  @Column({ type: 'text' })
  language!: string;

  @Column({ name: 'start_offset', type: 'integer' })
  startOffset!: number;

  @Column({ name: 'end_offset', type: 'integer' })
  endOffset!: number;

  /** Number of indexed terms (with repeats): the document length in BM25. */
  @Column({ name: 'term_count', type: 'integer' })
  termCount!: number;
}
