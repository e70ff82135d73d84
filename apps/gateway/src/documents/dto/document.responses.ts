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

/** One line's outcome in a batch upload. */
export class BatchLineResult {
  @ApiProperty({ type: 'integer', description: 'Line number in the request body, from 1.', example: 1 })
  line!: number;

  @ApiProperty({
    type: 'integer',
    enum: [200, 202, 400, 413, 429],
    description:
      'What POST /documents would have answered for this document alone: 202 stored and queued; 200 idempotent repeat (the first document, nothing stored); 400 invalid line; 413 content over MAX_UPLOAD_BYTES; 429 the tenant has INGEST_MAX_QUEUED_PER_TENANT documents queued (send the line again after Retry-After). Nothing is stored for a 4xx line.',
  })
  status!: number;

  @ApiProperty({ format: 'uuid', required: false })
  id?: string;

  @ApiProperty({ required: false, example: '/documents/3f0c1a9e-2f4b-4d7e-9a51-0c2b8f7e6d11' })
  status_url?: string;

  @ApiProperty({ required: false, example: 'content: must not be empty' })
  message?: string;
}

export class BatchUploadResponse {
  @ApiProperty({ type: 'integer', description: 'Lines stored and queued (202).' })
  accepted!: number;

  @ApiProperty({ type: 'integer', description: 'Idempotent repeats (200).' })
  repeated!: number;

  @ApiProperty({ type: 'integer', description: 'Lines refused (4xx): nothing stored for them.' })
  rejected!: number;

  @ApiProperty({ type: [BatchLineResult], description: 'One per non-blank line, in order.' })
  results!: BatchLineResult[];
}
