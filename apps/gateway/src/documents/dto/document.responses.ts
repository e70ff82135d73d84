import { ApiProperty } from '@nestjs/swagger';
import { DOCUMENT_STATUSES, DocumentStatus } from '#libs/contracts';

export class AcceptedDocumentResponse {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty({ enum: DOCUMENT_STATUSES, example: DocumentStatus.Queued })
  status!: DocumentStatus;

  @ApiProperty({ example: 'default' })
  collection!: string;

  @ApiProperty({ example: '/documents/3f0c1a9e-2f4b-4d7e-9a51-0c2b8f7e6d11' })
  status_url!: string;
}

export class DocumentSummary {
  @ApiProperty({ format: 'uuid' })
  id!: string;

  @ApiProperty()
  title!: string;

  @ApiProperty()
  collection!: string;

  @ApiProperty({ enum: DOCUMENT_STATUSES })
  status!: DocumentStatus;

  @ApiProperty({ type: 'integer' })
  chunk_count!: number;

  @ApiProperty({ type: 'integer', description: 'Size of the upload in bytes.' })
  size_bytes!: number;

  @ApiProperty({ format: 'date-time' })
  created_at!: string;

  @ApiProperty({ type: String, format: 'date-time', nullable: true })
  indexed_at!: string | null;
}

export class DocumentListResponse {
  @ApiProperty({ type: [DocumentSummary], description: 'Newest first.' })
  items!: DocumentSummary[];

  @ApiProperty({
    type: String,
    nullable: true,
    description: 'Pass as `cursor` for the next page; null on the last page.',
  })
  next_cursor!: string | null;
}

export class DocumentResponse extends DocumentSummary {
  @ApiProperty({ type: 'integer', minimum: 0, maximum: 100 })
  progress!: number;

  @ApiProperty({ example: 'text/plain' })
  mime_type!: string;

  @ApiProperty({ type: String, nullable: true, description: 'Why processing failed, when status is failed.' })
  error!: string | null;

  @ApiProperty({ type: 'object', additionalProperties: true })
  metadata!: Record<string, unknown>;

  @ApiProperty({ format: 'date-time' })
  updated_at!: string;
}
