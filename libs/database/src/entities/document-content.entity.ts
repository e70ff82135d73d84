import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The raw upload, kept apart from `documents` so listing documents never reads the bytes. */
@Entity({ name: 'document_contents' })
export class DocumentContentEntity {
  @PrimaryColumn({ name: 'document_id', type: 'uuid' })
  documentId!: string;

  @Column({ type: 'bytea' })
  body!: Buffer;
}
