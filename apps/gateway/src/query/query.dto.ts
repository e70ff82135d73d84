import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, IsString, Length, Matches, Max, Min, ValidateIf } from 'class-validator';
import { COLLECTION_PATTERN, type QuerySource } from '#libs/contracts';

export const MAX_QUERY_LENGTH = 2000;
export const MAX_TOP_K = 50;
export const DEFAULT_TOP_K = 5;

export class QueryRequestDto {
  @ApiProperty({
    description: 'The question, 1–2000 characters after trimming',
    minLength: 1,
    maxLength: MAX_QUERY_LENGTH,
    example: 'how do I reset my password?',
  })
  @Transform(({ value }: { value: unknown }) => (typeof value === 'string' ? value.trim() : value))
  @IsString({ message: 'query must be a string' })
  @Length(1, MAX_QUERY_LENGTH, {
    message: `query must be 1 to ${MAX_QUERY_LENGTH} characters after trimming`,
  })
  query!: string;

  @ApiPropertyOptional({
    type: 'integer',
    description: 'How many sources to return at most',
    minimum: 1,
    maximum: MAX_TOP_K,
    default: DEFAULT_TOP_K,
  })
  // Absent means the default; null is not a number of sources.
  @ValidateIf((_dto: QueryRequestDto, value: unknown) => value !== undefined)
  @IsInt({ message: `top_k must be an integer from 1 to ${MAX_TOP_K}` })
  @Min(1, { message: `top_k must be an integer from 1 to ${MAX_TOP_K}` })
  @Max(MAX_TOP_K, { message: `top_k must be an integer from 1 to ${MAX_TOP_K}` })
  top_k: number = DEFAULT_TOP_K;

  @ApiPropertyOptional({
    type: String,
    description: 'Search only this collection (all collections when absent)',
    pattern: COLLECTION_PATTERN.source,
    example: 'default',
  })
  @IsOptional()
  @IsString({ message: 'collection must be a string' })
  @Matches(COLLECTION_PATTERN, { message: `collection must match ${COLLECTION_PATTERN.source}` })
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
