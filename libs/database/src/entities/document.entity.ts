import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';
import type { DocumentStatus, TenantId } from '#libs/contracts';

@Entity({ name: 'documents' })
export class DocumentEntity {
  /** Also the id of its ingest job. */
  @PrimaryColumn('uuid')
  id!: string;

  @Column({ type: 'text' })
  tenant!: TenantId;

  @Column({ type: 'text' })
  collection!: string;

  @Column({ type: 'text' })
  title!: string;

  @Column({ type: 'text' })
  status!: DocumentStatus;

  @Column({ type: 'smallint', default: 0 })
  progress!: number;

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  @Column({ name: 'chunk_count', type: 'integer', default: 0 })
  chunkCount!: number;

  @Column({ name: 'size_bytes', type: 'integer' })
  sizeBytes!: number;

  @Column({ name: 'mime_type', type: 'text' })
  mimeType!: string;

  @Column({ name: 'content_sha256', type: 'text' })
  contentSha256!: string;

  @Column({ type: 'jsonb', default: () => "'{}'::jsonb" })
  metadata!: Record<string, unknown>;

  @Column({ name: 'idempotency_key', type: 'text', nullable: true })
  idempotencyKey!: string | null;

  @Column({ name: 'api_key_id', type: 'uuid', nullable: true })
  apiKeyId!: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;

  @Column({ name: 'indexed_at', type: 'timestamptz', nullable: true })
  indexedAt!: Date | null;

  /**
   * When the current attempt's chunks were committed, while the document waits for the corpus
   * version bump that publishes it (ADR 0030); null otherwise. Internal: not part of the API.
   */
  @Column({ name: 'written_at', type: 'timestamptz', nullable: true })
  writtenAt!: Date | null;
}
