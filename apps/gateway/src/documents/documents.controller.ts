import {
  BadRequestException,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  HttpStatus,
  Inject,
  Param,
  ParseUUIDPipe,
  Post,
  Query,
  Req,
  Res,
} from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiExtraModels,
  ApiForbiddenResponse,
  ApiHeader,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPayloadTooLargeResponse,
  ApiServiceUnavailableResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
  ApiUnsupportedMediaTypeResponse,
  getSchemaPath,
} from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { Scope } from '#libs/contracts';
import type { AuthenticatedKey } from '../auth/authenticated-key.js';
import { CurrentKey } from '../auth/current-key.decorator.js';
import { ErrorResponse } from '../http/error-response.dto.js';
import {
  BatchDocumentLineDto,
  CreateDocumentDto,
  MAX_IDEMPOTENCY_KEY_LENGTH,
  UploadDocumentFormDto,
} from './dto/document-fields.dto.js';
import {
  AcceptedDocumentResponse,
  BatchUploadResponse,
  DocumentListResponse,
  DocumentResponse,
} from './dto/document.responses.js';
import { ListDocumentsQuery } from './dto/list-documents.query.js';
import { RequireScope } from '../auth/require-scope.js';
import { DocumentsService } from './documents.service.js';
import { IngestBacklog } from './ingest-backlog.js';
import { readBatch } from './batch-reader.js';
import { readUpload } from './upload-reader.js';

/** Lines refused for the tenant's queued cap: as POST /documents's 429 says. */
const TENANT_BACKLOG_RETRY_AFTER_S = 1;

const uuidParam = new ParseUUIDPipe({
  exceptionFactory: () => new BadRequestException('id: must be a UUID'),
});

const RATE_LIMIT_HEADERS = {
  'RateLimit-Limit': {
    description: 'Requests allowed per minute for this API key.',
    schema: { type: 'integer' },
  },
  'RateLimit-Remaining': { description: 'Requests left in the current window.', schema: { type: 'integer' } },
  'RateLimit-Reset': { description: 'Seconds until the window resets.', schema: { type: 'integer' } },
} as const;

@ApiTags('documents')
@ApiBearerAuth()
@ApiExtraModels(CreateDocumentDto, UploadDocumentFormDto)
@ApiUnauthorizedResponse({ description: 'Missing, unknown or revoked API key.', type: ErrorResponse })
@ApiTooManyRequestsResponse({
  description: 'Over the rate limit.',
  type: ErrorResponse,
  headers: {
    'Retry-After': { description: 'Seconds to wait.', schema: { type: 'integer' } },
    ...RATE_LIMIT_HEADERS,
  },
})
@Controller('documents')
export class DocumentsController {
  constructor(
    private readonly documents: DocumentsService,
    private readonly backlog: IngestBacklog,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  @Post()
  @RequireScope(Scope.DocumentsWrite, { beforeBody: true })
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: 'Upload a document; it is indexed asynchronously',
    description:
      'Send JSON (the text itself) or multipart/form-data with a `file` (.txt, .md, .markdown, .html, .htm, ' +
      '.pdf, .docx). Poll `status_url` until `indexed` or `failed`.',
    requestBody: {
      required: true,
      content: {
        'application/json': { schema: { $ref: getSchemaPath(CreateDocumentDto) } },
        'multipart/form-data': { schema: { $ref: getSchemaPath(UploadDocumentFormDto) } },
      },
    },
  })
  @ApiHeader({
    name: 'Idempotency-Key',
    required: false,
    description: `At most ${MAX_IDEMPOTENCY_KEY_LENGTH} characters. Repeating it with the same API key returns the first document (200) and starts no new job. Keys of other tenants never match it.`,
  })
  @ApiAcceptedResponse({
    description: 'Stored and queued for indexing.',
    type: AcceptedDocumentResponse,
    headers: { Location: { description: 'The document: /documents/{id}.', schema: { type: 'string' } } },
  })
  @ApiOkResponse({
    description: 'Idempotent repeat: the document first created with this Idempotency-Key.',
    type: AcceptedDocumentResponse,
  })
  @ApiBadRequestResponse({
    description: 'Invalid field, empty content, bad Idempotency-Key.',
    type: ErrorResponse,
  })
  @ApiForbiddenResponse({
    description: `The API key lacks the "${Scope.DocumentsWrite}" scope.`,
    type: ErrorResponse,
  })
  @ApiPayloadTooLargeResponse({ description: 'Over MAX_UPLOAD_BYTES.', type: ErrorResponse })
  @ApiUnsupportedMediaTypeResponse({
    description: 'File type or request Content-Type not supported.',
    type: ErrorResponse,
  })
  @ApiTooManyRequestsResponse({
    description:
      'Over the rate limit, or the tenant already has INGEST_MAX_QUEUED_PER_TENANT documents queued; nothing was stored.',
    type: ErrorResponse,
    headers: {
      'Retry-After': { description: 'Seconds to wait.', schema: { type: 'integer' } },
      ...RATE_LIMIT_HEADERS,
    },
  })
  @ApiServiceUnavailableResponse({
    description:
      'Could not be stored safely, or INGEST_MAX_WAITING documents already wait to be indexed; nothing was stored.',
    type: ErrorResponse,
    headers: { 'Retry-After': { description: 'Seconds to wait.', schema: { type: 'integer' } } },
  })
  async upload(
    @CurrentKey() key: AuthenticatedKey,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
  ): Promise<AcceptedDocumentResponse> {
    if (
      idempotencyKey !== undefined &&
      (idempotencyKey.length === 0 || idempotencyKey.length > MAX_IDEMPOTENCY_KEY_LENGTH)
    ) {
      throw new BadRequestException(`Idempotency-Key: must be 1–${MAX_IDEMPOTENCY_KEY_LENGTH} characters`);
    }
    await this.backlog.assertRoom();
    const upload = await readUpload(request, this.config.MAX_UPLOAD_BYTES);
    const { created, document } = await this.documents.create(key.tenant, upload, {
      apiKeyId: key.id,
      idempotencyKey: idempotencyKey ?? null,
      requestId: request.id,
    });
    void reply.header('location', document.status_url);
    if (!created) void reply.status(HttpStatus.OK);
    return document;
  }

  @Post('batch')
  @RequireScope(Scope.DocumentsWrite, { beforeBody: true })
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Upload many documents in one request (NDJSON); each line is answered on its own',
    description:
      'One JSON object per line, each as the JSON body of POST /documents (title, content, collection, ' +
      'metadata) plus an optional `idempotency_key`; blank lines are skipped. Valid lines are stored in ' +
      'one transaction and queued together; a bad line gets its own 4xx in `results` and nothing is ' +
      `stored for it, without failing the others. At most MAX_BATCH_DOCUMENTS lines and ` +
      'MAX_BATCH_UPLOAD_BYTES bytes; each content at most MAX_UPLOAD_BYTES. Lines answered 429 (the ' +
      "tenant's queued cap) may be sent again after Retry-After.",
    requestBody: {
      required: true,
      content: {
        'application/x-ndjson': {
          schema: {
            type: 'string',
            example: '{"title":"One","content":"First text."}\n{"title":"Two","content":"Second."}',
          },
        },
      },
    },
  })
  @ApiExtraModels(BatchDocumentLineDto)
  @ApiOkResponse({
    description: `One result per line (see each line's status); each line is described by ${BatchDocumentLineDto.name}.`,
    type: BatchUploadResponse,
    headers: {
      'Retry-After': {
        description: 'Present when a line was answered 429: seconds to wait.',
        schema: { type: 'integer' },
      },
      ...RATE_LIMIT_HEADERS,
    },
  })
  @ApiBadRequestResponse({
    description: 'No document in the body, or an Idempotency-Key header.',
    type: ErrorResponse,
  })
  @ApiForbiddenResponse({
    description: `The API key lacks the "${Scope.DocumentsWrite}" scope.`,
    type: ErrorResponse,
  })
  @ApiPayloadTooLargeResponse({
    description: 'Over MAX_BATCH_UPLOAD_BYTES or MAX_BATCH_DOCUMENTS; nothing was stored.',
    type: ErrorResponse,
  })
  @ApiUnsupportedMediaTypeResponse({
    description: 'Content-Type is not application/x-ndjson.',
    type: ErrorResponse,
  })
  @ApiServiceUnavailableResponse({
    description:
      'Could not be stored safely, or INGEST_MAX_WAITING documents already wait to be indexed; nothing was stored.',
    type: ErrorResponse,
    headers: { 'Retry-After': { description: 'Seconds to wait.', schema: { type: 'integer' } } },
  })
  async uploadBatch(
    @CurrentKey() key: AuthenticatedKey,
    @Req() request: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
  ): Promise<BatchUploadResponse> {
    if (idempotencyKey !== undefined) {
      throw new BadRequestException(
        'Idempotency-Key: not taken by the batch route; give each line its own idempotency_key',
      );
    }
    await this.backlog.assertRoom();
    const lines = await readBatch(request, {
      maxDocumentBytes: this.config.MAX_UPLOAD_BYTES,
      maxDocuments: this.config.MAX_BATCH_DOCUMENTS,
    });
    const response = await this.documents.createMany(key.tenant, lines, {
      apiKeyId: key.id,
      requestId: request.id,
    });
    if (response.results.some((result) => result.status === Number(HttpStatus.TOO_MANY_REQUESTS))) {
      void reply.header('retry-after', String(TENANT_BACKLOG_RETRY_AFTER_S));
    }
    return response;
  }

  @Get()
  @RequireScope(Scope.DocumentsRead)
  @ApiOperation({
    summary: "List the tenant's documents, newest first (served from a cache at most a second old)",
  })
  @ApiOkResponse({ type: DocumentListResponse, headers: RATE_LIMIT_HEADERS })
  @ApiBadRequestResponse({ description: 'Bad filter, limit or cursor.', type: ErrorResponse })
  @ApiForbiddenResponse({
    description: `The API key lacks the "${Scope.DocumentsRead}" scope.`,
    type: ErrorResponse,
  })
  list(
    @CurrentKey() key: AuthenticatedKey,
    @Query() query: ListDocumentsQuery,
  ): Promise<DocumentListResponse> {
    return this.documents.list(key.tenant, query);
  }

  @Get(':id')
  @RequireScope(Scope.DocumentsRead)
  @ApiOperation({ summary: 'A document and its processing status' })
  @ApiOkResponse({ type: DocumentResponse, headers: RATE_LIMIT_HEADERS })
  @ApiBadRequestResponse({ description: 'The id is not a UUID.', type: ErrorResponse })
  @ApiForbiddenResponse({
    description: `The API key lacks the "${Scope.DocumentsRead}" scope.`,
    type: ErrorResponse,
  })
  @ApiNotFoundResponse({ description: "No such document in the key's tenant.", type: ErrorResponse })
  get(@CurrentKey() key: AuthenticatedKey, @Param('id', uuidParam) id: string): Promise<DocumentResponse> {
    return this.documents.get(key.tenant, id);
  }

  @Delete(':id')
  @RequireScope(Scope.DocumentsWrite)
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({
    summary: 'Delete a document; its chunks leave the index and cached answers citing it are retired',
  })
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiBadRequestResponse({ description: 'The id is not a UUID.', type: ErrorResponse })
  @ApiForbiddenResponse({
    description: `The API key lacks the "${Scope.DocumentsWrite}" scope.`,
    type: ErrorResponse,
  })
  @ApiNotFoundResponse({ description: "No such document in the key's tenant.", type: ErrorResponse })
  async delete(@CurrentKey() key: AuthenticatedKey, @Param('id', uuidParam) id: string): Promise<void> {
    await this.documents.delete(key.tenant, id);
  }
}
