import {
  BadRequestException,
  HttpException,
  HttpStatus,
  PayloadTooLargeException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { DEFAULT_COLLECTION, SupportedMimeType } from '#libs/contracts';
import { createValidationPipe } from '../http/validation.pipe.js';
import { BatchDocumentLineDto } from './dto/document-fields.dto.js';
import { NDJSON_MEDIA_TYPES } from './ndjson.js';
import type { Upload } from './upload-reader.js';

/** A line that is a valid upload, or the 4xx it gets on its own. */
export type BatchLine =
  | { line: number; upload: Upload; idempotencyKey: string | null }
  | { line: number; status: number; message: string };

export interface BatchLimits {
  /** Content of one document, as for POST /documents. */
  maxDocumentBytes: number;
  maxDocuments: number;
}

const validation = createValidationPipe();

/**
 * Reads `POST /documents/batch`: NDJSON, one JSON upload per line (blank lines skipped). A bad
 * line becomes its own 400 or 413 and does not spoil the others; only a body that is not NDJSON
 * (415), has no document (400) or too many (413) fails as a whole.
 */
export async function readBatch(request: FastifyRequest, limits: BatchLimits): Promise<BatchLine[]> {
  const mediaType = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (
    mediaType === undefined ||
    !NDJSON_MEDIA_TYPES.includes(mediaType) ||
    typeof request.body !== 'string'
  ) {
    throw new UnsupportedMediaTypeException(
      `Content-Type: must be ${NDJSON_MEDIA_TYPES.join(' or ')}, not ${mediaType ?? 'absent'}`,
    );
  }
  const lines = request.body
    .split('\n')
    .map((text, index) => ({ line: index + 1, text: text.trim() }))
    .filter(({ text }) => text.length > 0);
  if (lines.length === 0) throw new BadRequestException('body: no documents (one JSON object per line)');
  if (lines.length > limits.maxDocuments) {
    throw new PayloadTooLargeException(
      `body: ${lines.length} documents, more than MAX_BATCH_DOCUMENTS (${limits.maxDocuments}); nothing was stored`,
    );
  }
  return Promise.all(lines.map(({ line, text }) => readLine(line, text, limits.maxDocumentBytes)));
}

async function readLine(line: number, text: string, maxBytes: number): Promise<BatchLine> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { line, status: HttpStatus.BAD_REQUEST, message: 'line: is not valid JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return {
      line,
      status: HttpStatus.BAD_REQUEST,
      message: 'line: must be a JSON object with title and content',
    };
  }
  let dto: BatchDocumentLineDto;
  try {
    dto = (await validation.transform(value, {
      type: 'body',
      metatype: BatchDocumentLineDto,
    })) as BatchDocumentLineDto;
  } catch (error) {
    if (error instanceof HttpException) return { line, status: error.getStatus(), message: error.message };
    throw error;
  }
  const body = Buffer.from(dto.content, 'utf8');
  if (body.length > maxBytes) {
    return {
      line,
      status: HttpStatus.PAYLOAD_TOO_LARGE,
      message: `content: larger than MAX_UPLOAD_BYTES (${maxBytes} bytes)`,
    };
  }
  return {
    line,
    upload: {
      title: dto.title,
      collection: dto.collection ?? DEFAULT_COLLECTION,
      metadata: dto.metadata ?? {},
      mimeType: SupportedMimeType.PlainText,
      body,
    },
    idempotencyKey: dto.idempotency_key ?? null,
  };
}
