import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AppConfig } from '#libs/config';
import { createLogger, NestPinoLogger } from '#libs/observability';
import { IngestWorkerModule } from './ingest-worker.module.js';

/**
 * The ingest worker: no HTTP, just the "ingest" queue's processor and the reconciler. It consumes
 * jobs once this resolves; SIGINT/SIGTERM (or `close()`) finishes the jobs in hand, then exits.
 */
export async function createIngestWorkerApp(config: AppConfig): Promise<INestApplicationContext> {
  const logger = createLogger('ingest-worker', config.LOG_LEVEL);
  const app = await NestFactory.createApplicationContext(IngestWorkerModule.forRoot(config, logger), {
    logger: new NestPinoLogger(logger),
    // Fail with the error instead of process.exit(1), so callers and tests see why.
    abortOnError: false,
  });
  app.enableShutdownHooks();
  return app;
}
