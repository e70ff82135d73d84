import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AppConfig } from '#libs/config';

/** Media types POST /documents/batch accepts: NDJSON, one JSON document per line. */
export const NDJSON_MEDIA_TYPES = ['application/x-ndjson', 'application/jsonl'];

/**
 * Hands NDJSON bodies to the handler as text, up to MAX_BATCH_UPLOAD_BYTES (not the server-wide
 * MAX_UPLOAD_BYTES, which bounds one document): the batch route parses and validates line by line.
 */
export function registerNdjson(app: NestFastifyApplication, config: AppConfig): void {
  app
    .getHttpAdapter()
    .getInstance()
    .addContentTypeParser(
      NDJSON_MEDIA_TYPES,
      { parseAs: 'string', bodyLimit: config.MAX_BATCH_UPLOAD_BYTES },
      (_request, body, done) => done(null, body),
    );
}
