import type { IncomingMessage } from 'node:http';
import {
  BadRequestException,
  HttpException,
  PayloadTooLargeException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Multipart } from '@fastify/multipart';
import { DEFAULT_COLLECTION, SupportedMimeType } from '#libs/contracts';
import { createValidationPipe } from '../http/validation.pipe.js';
import { CreateDocumentDto, DocumentFieldsDto, MAX_TITLE_LENGTH } from './dto/document-fields.dto.js';
import { MAX_FORM_FIELD_BYTES } from './multipart.js';
import { detectUploadType } from './upload-type.js';

/** An upload, validated, whichever way it was sent. */
export interface Upload {
  title: string;
  collection: string;
  metadata: Record<string, unknown>;
  mimeType: SupportedMimeType;
  body: Buffer;
}

const FORM_FIELDS = new Set(['title', 'collection', 'metadata']);
const validation = createValidationPipe();

/** Reads `POST /documents` as JSON or multipart; any other content type is a 415. */
export async function readUpload(request: FastifyRequest, maxBytes: number): Promise<Upload> {
  if (request.isMultipart()) {
    try {
      return await readMultipart(request, maxBytes);
    } finally {
      discardUnreadBody(request.raw);
    }
  }
  const mediaType = request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'application/json') {
    throw new UnsupportedMediaTypeException(
      `Content-Type: must be application/json or multipart/form-data, not ${mediaType ?? 'absent'}`,
    );
  }
  return readJson(request.body, maxBytes);
}

/**
 * A multipart body refused before its end (a 400 about its first bytes or parts) is left paused:
 * unpiped by @fastify/multipart after a parse error, or held back by busboy when the reader stops
 * between parts. Yet it counts as being read, so Node does not discard the rest after the answer
 * as it does for a body nobody touched; once the request's buffer (64 KiB) is full Node stops
 * reading the socket, and the client's next request on that keep-alive connection waits for
 * REQUEST_TIMEOUT_MS. The rest is read and dropped here instead, as Node would (ADR 0028).
 */
function discardUnreadBody(body: IncomingMessage): void {
  if (body.readableEnded) return;
  body.unpipe();
  body.resume();
}

async function readJson(body: unknown, maxBytes: number): Promise<Upload> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new BadRequestException('body: must be a JSON object with title and content');
  }
  const dto = (await validation.transform(body, {
    type: 'body',
    metatype: CreateDocumentDto,
  })) as CreateDocumentDto;
  const bytes = Buffer.from(dto.content, 'utf8');
  if (bytes.length > maxBytes) {
    throw new PayloadTooLargeException(`content: larger than MAX_UPLOAD_BYTES (${maxBytes} bytes)`);
  }
  return {
    title: dto.title,
    collection: dto.collection ?? DEFAULT_COLLECTION,
    metadata: dto.metadata ?? {},
    mimeType: SupportedMimeType.PlainText,
    body: bytes,
  };
}

interface ReceivedFile {
  fileName: string;
  declaredType: string;
  bytes: Buffer;
}

async function readMultipart(request: FastifyRequest, maxBytes: number): Promise<Upload> {
  const fields = new Map<string, string>();
  let file: ReceivedFile | undefined;
  try {
    for await (const part of request.parts()) {
      if (part.type === 'file') {
        file = await receiveFile(part, file);
      } else {
        fields.set(part.fieldname, fieldValue(part));
      }
    }
  } catch (error: unknown) {
    throw multipartError(error, maxBytes);
  }
  if (file === undefined) throw new BadRequestException('file: is required (a multipart part named "file")');
  if (file.bytes.length === 0) throw new BadRequestException('file: is empty');
  const type = detectUploadType(file.fileName, file.declaredType, file.bytes);
  if (!type.ok) throw new UnsupportedMediaTypeException(type.reason);

  const metadataText = fields.get('metadata');
  const candidate = {
    title: fields.get('title') ?? (file.fileName.slice(0, MAX_TITLE_LENGTH) || 'untitled'),
    collection: fields.get('collection'),
    metadata: metadataText === undefined ? undefined : parseJson(metadataText),
  };
  const dto = (await validation.transform(candidate, {
    type: 'body',
    metatype: DocumentFieldsDto,
  })) as DocumentFieldsDto;
  return {
    title: dto.title,
    collection: dto.collection ?? DEFAULT_COLLECTION,
    metadata: dto.metadata ?? {},
    mimeType: type.mimeType,
    body: file.bytes,
  };
}

async function receiveFile(part: Extract<Multipart, { type: 'file' }>, earlier: ReceivedFile | undefined) {
  if (part.fieldname !== 'file') {
    throw new BadRequestException(`${part.fieldname}: unexpected file part; send the document as "file"`);
  }
  if (earlier !== undefined) throw new BadRequestException('file: send exactly one file');
  // A part with a Content-Type but no filename is a file part too, and then busboy leaves
  // `filename` undefined whatever the typings say (the fuzz suite found the 500 it caused).
  const fileName: string | undefined = part.filename;
  // The whole part must be consumed before the next one is read.
  return { fileName: fileName ?? '', declaredType: part.mimetype, bytes: await part.toBuffer() };
}

function fieldValue(part: Extract<Multipart, { type: 'field' }>): string {
  // Busboy reads a part without a filename (and with a text type, or none) as a plain field.
  if (part.fieldname === 'file') {
    throw new BadRequestException('file: must be a file part, with a filename in its Content-Disposition');
  }
  if (!FORM_FIELDS.has(part.fieldname)) {
    throw new BadRequestException(
      `${part.fieldname}: is not an upload field (title, collection, metadata, file)`,
    );
  }
  if (part.valueTruncated) {
    throw new PayloadTooLargeException(`${part.fieldname}: longer than ${MAX_FORM_FIELD_BYTES} bytes`);
  }
  return String(part.value);
}

/** A string that is not JSON is kept as is, so validation answers "metadata: must be a JSON object". */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** @fastify/multipart's errors, reworded to name the field or limit. */
function multipartError(error: unknown, maxBytes: number): unknown {
  if (error instanceof HttpException) return error;
  switch ((error as { code?: string }).code) {
    case 'FST_REQ_FILE_TOO_LARGE':
      return new PayloadTooLargeException(`file: larger than MAX_UPLOAD_BYTES (${maxBytes} bytes)`);
    case 'FST_FILES_LIMIT':
      return new BadRequestException('file: send exactly one file');
    case 'FST_FIELDS_LIMIT':
    case 'FST_PARTS_LIMIT':
      return new BadRequestException('body: too many form fields');
    default:
      // Everything else the parser throws is about the bytes the client sent: no boundary, an
      // overlong boundary, a body cut short. Its messages are fixed strings of the parser's.
      return new BadRequestException(
        `body: is not valid multipart/form-data (${error instanceof Error ? error.message.slice(0, 200) : 'unreadable'})`,
      );
  }
}
