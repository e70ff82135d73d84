import cors from '@fastify/cors';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';

/**
 * Cross-origin access for browsers, only from the origins in CORS_ORIGINS; without that setting
 * the plugin is not registered at all and browsers keep their same-origin default. Credentials
 * are never allowed: the API authenticates with a bearer key, not cookies.
 */
export async function registerCors(app: NestFastifyApplication, origins: readonly string[]): Promise<void> {
  await app.register(cors, {
    origin: [...origins],
    methods: ['GET', 'POST', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'X-Request-Id'],
    exposedHeaders: [
      'Location',
      'Retry-After',
      'RateLimit-Limit',
      'RateLimit-Remaining',
      'RateLimit-Reset',
      'X-Cache',
      'X-Process-Time',
      'X-Request-Id',
    ],
    credentials: false,
    maxAge: 600,
  });
}
