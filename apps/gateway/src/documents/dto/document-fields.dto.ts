import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsObject, IsOptional, IsString, Length, Matches, ValidateBy } from 'class-validator';
import { COLLECTION_PATTERN, DEFAULT_COLLECTION } from '#libs/contracts';

export const MAX_TITLE_LENGTH = 300;
export const MAX_METADATA_BYTES = 8 * 1024;

/** Postgres text cannot hold U+0000; refusing it here keeps a client error from becoming a 5xx. */
function NoNulCharacters(): PropertyDecorator {
  return ValidateBy({
    name: 'noNulCharacters',
    validator: {
      validate: (value: unknown) => typeof value !== 'string' || !value.includes('\0'),
      defaultMessage: () => 'must not contain NUL characters',
    },
  });
}

/** A JSON object of at most `max` bytes when serialized. */
function SmallJsonObject(max: number): PropertyDecorator {
  return ValidateBy({
    name: 'smallJsonObject',
    validator: {
      validate: (value: unknown) => Buffer.byteLength(JSON.stringify(value)) <= max,
      defaultMessage: () => `must be at most ${max} bytes as JSON`,
    },
  });
}

/**
 * JSON that Postgres jsonb accepts: JSON.stringify writes NUL and unpaired UTF-16 surrogates as
 * \u escapes, which jsonb refuses; refusing them here keeps a client error from becoming a 5xx.
 */
function JsonbCompatible(): PropertyDecorator {
  return ValidateBy({
    name: 'jsonbCompatible',
    validator: {
      // Drop escaped backslashes first so a literal "\u0000" in a string is not mistaken for one.
      validate: (value: unknown) => !/\\u(0000|d[89a-f])/i.test(JSON.stringify(value).replaceAll('\\\\', '')),
      defaultMessage: () => 'must not contain NUL characters or unpaired UTF-16 surrogates',
    },
  });
}

/** The fields every upload has, whether sent as JSON or as multipart form fields. */
export class DocumentFieldsDto {
  @ApiProperty({ minLength: 1, maxLength: MAX_TITLE_LENGTH, example: 'Onboarding guide' })
  @IsString({ message: 'must be a string' })
  @Length(1, MAX_TITLE_LENGTH, { message: `must be 1–${MAX_TITLE_LENGTH} characters` })
  @NoNulCharacters()
  title!: string;

  @ApiPropertyOptional({
    pattern: COLLECTION_PATTERN.source,
    default: DEFAULT_COLLECTION,
    example: 'default',
  })
  @IsOptional()
  @IsString({ message: 'must be a string' })
  @Matches(COLLECTION_PATTERN, { message: `must match ${COLLECTION_PATTERN.source}` })
  collection?: string;

  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description: `Free-form JSON object, at most ${MAX_METADATA_BYTES} bytes when serialized.`,
    example: { lang: 'en' },
  })
  @IsOptional()
  @IsObject({ message: 'must be a JSON object' })
  @SmallJsonObject(MAX_METADATA_BYTES)
  @JsonbCompatible()
  metadata?: Record<string, unknown>;
}

/** `POST /documents` as application/json: the text itself is the document (stored as text/plain). */
export class CreateDocumentDto extends DocumentFieldsDto {
  @ApiProperty({ minLength: 1, description: 'The full text; at most MAX_UPLOAD_BYTES bytes as UTF-8.' })
  @IsString({ message: 'must be a string' })
  @Matches(/\S/, { message: 'must not be empty' })
  content!: string;
}

/** `POST /documents` as multipart/form-data (OpenAPI only: the controller reads the parts itself). */
export class UploadDocumentFormDto {
  @ApiProperty({
    type: 'string',
    format: 'binary',
    description:
      'Plain text (.txt), Markdown (.md, .markdown), HTML (.html, .htm), PDF (.pdf) or DOCX (.docx).',
  })
  file!: string;

  @ApiPropertyOptional({
    minLength: 1,
    maxLength: MAX_TITLE_LENGTH,
    description: 'Defaults to the file name.',
  })
  title?: string;

  @ApiPropertyOptional({ pattern: COLLECTION_PATTERN.source, default: DEFAULT_COLLECTION })
  collection?: string;

  @ApiPropertyOptional({
    description: `A JSON object as a string, at most ${MAX_METADATA_BYTES} bytes.`,
    example: '{"lang":"en"}',
  })
  metadata?: string;
}

export const MAX_IDEMPOTENCY_KEY_LENGTH = 200;

/** One line of `POST /documents/batch`: a JSON upload, with its own idempotency key. */
export class BatchDocumentLineDto extends CreateDocumentDto {
  @ApiPropertyOptional({
    minLength: 1,
    maxLength: MAX_IDEMPOTENCY_KEY_LENGTH,
    description:
      'Like the Idempotency-Key header of POST /documents: repeating it with the same API key answers the first document (200) and stores nothing.',
  })
  @IsOptional()
  @IsString({ message: 'must be a string' })
  @Length(1, MAX_IDEMPOTENCY_KEY_LENGTH, { message: `must be 1–${MAX_IDEMPOTENCY_KEY_LENGTH} characters` })
  idempotency_key?: string;
}
