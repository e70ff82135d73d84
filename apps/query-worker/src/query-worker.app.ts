import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import type { AppConfig } from '#libs/config';
import { createLogger, NestPinoLogger } from '#libs/observability';
import { QueryWorkerModule } from './query-worker.module.js';

/** The query worker: no HTTP server, only the BullMQ consumer. It starts taking jobs once it is fully up. */
export async function createQueryWorkerApp(config: AppConfig): Promise<INestApplicationContext> {
  const logger = createLogger('query-worker', config.LOG_LEVEL);
  const app = await NestFactory.createApplicationContext(QueryWorkerModule.forRoot(config), {
    logger: new NestPinoLogger(logger),
  });
  // SIGTERM/SIGINT close the app, which drains the jobs in hand before the connections go.
  app.enableShutdownHooks();
  return app;
}
