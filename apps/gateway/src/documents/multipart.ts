import multipart from '@fastify/multipart';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AppConfig } from '#libs/config';

/** Form fields are short (title, collection, metadata ≤ 8 KiB); anything longer is refused, not buffered. */
export const MAX_FORM_FIELD_BYTES = 64 * 1024;

/**
 * Registers @fastify/multipart on the Fastify instance under Nest (before `listen`), so
 * multipart requests reach the handler unparsed and the upload is streamed in `request.parts()`.
 */
export async function registerMultipart(app: NestFastifyApplication, config: AppConfig): Promise<void> {
  await app.register(multipart, {
    limits: {
      fileSize: config.MAX_UPLOAD_BYTES,
      files: 1,
      fields: 10,
      fieldSize: MAX_FORM_FIELD_BYTES,
    },
  });
}
