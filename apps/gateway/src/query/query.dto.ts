import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { COLLECTION_PATTERN, type QuerySource } from '#libs/contracts';

export const MAX_QUERY_LENGTH = 2000;
export const MAX_TOP_K = 50;
export const DEFAULT_TOP_K = 5;

/** The body of POST /query as the handler receives it, after Fastify's schema validation. */
export interface QueryRequestBody {
  query: string;
  top_k: number;
  collection?: string | null;
}

/**
 * Validated by Fastify (compiled ajv, a few µs) rather than class-validator (~50 µs a body):
 * this is the route that must cost little more than a bare one. Trimming is checked in the handler.
 */
export const QUERY_REQUEST_SCHEMA = {
  type: 'object',
  required: ['query'],
  additionalProperties: false,
  properties: {
    query: { type: 'string', minLength: 1 },
    top_k: { type: 'integer', minimum: 1, maximum: MAX_TOP_K, default: DEFAULT_TOP_K },
    collection: { type: ['string', 'null'], pattern: COLLECTION_PATTERN.source },
  },
} as const;

/** The same request for the OpenAPI document. */
export class QueryRequestDto {
  @ApiProperty({
    description: 'The question, 1–2000 characters after trimming',
    minLength: 1,
    maxLength: MAX_QUERY_LENGTH,
    example: 'how do I reset my password?',
  })
  query!: string;

  @ApiPropertyOptional({
    type: 'integer',
    description: 'How many sources to return at most',
    minimum: 1,
    maximum: MAX_TOP_K,
    default: DEFAULT_TOP_K,
  })
  top_k?: number;

  @ApiPropertyOptional({
    type: String,
    description: 'Search only this collection (all collections when absent)',
    pattern: COLLECTION_PATTERN.source,
    example: 'default',
  })
  collection?: string | null;
}

export class QuerySourceDto implements QuerySource {
  @ApiProperty({ format: 'uuid' })
  document_id!: string;
  @ApiProperty()
  chunk_id!: string;
  @ApiProperty()
  title!: string;
  @ApiProperty({ description: 'The matching passage' })
  snippet!: string;
  @ApiProperty({ description: 'Relevance; sources come highest first' })
  score!: number;
}

export class QueryResponseDto {
  @ApiProperty({ description: 'The question as asked (trimmed)' })
  query!: string;
  @ApiProperty({ description: 'Built from the retrieved text (extractive) unless a generator is configured' })
  answer!: string;
  @ApiProperty({ type: [QuerySourceDto], description: `Ordered by score, at most top_k` })
  sources!: QuerySourceDto[];
  @ApiProperty({ description: 'Whether the answer came from the cache (also the X-Cache header)' })
  cached!: boolean;
  @ApiProperty({ description: 'Server time spent on this request, in milliseconds', example: 12.4 })
  took_ms!: number;
}
