import type { INestApplicationContext } from '@nestjs/common';
import { createIngestWorkerApp } from '../../apps/ingest-worker/src/ingest-worker.app.js';
import { createQueryWorkerApp } from '../../apps/query-worker/src/query-worker.app.js';
import { startTestGateway, type RunningGateway } from './gateway.js';
import { createTestEnvironment, type TestEnvironment } from './test-environment.js';

export interface WholeSystem {
  env: TestEnvironment;
  gateway: RunningGateway;
  /** The ingest worker's app, then the query worker's. */
  workers: INestApplicationContext[];
  /** Stops the gateway, then the workers, then drops the run's database and keys. */
  close(): Promise<void>;
}

/**
 * The whole system in this process: an ingest worker, a query worker and a gateway, on a fresh
 * test environment (its own database and Redis prefix) with the given settings.
 */
export async function startWholeSystem(
  overrides: Partial<Record<string, string>> = {},
): Promise<WholeSystem> {
  const env = await createTestEnvironment(overrides);
  const workers: INestApplicationContext[] = [
    await createIngestWorkerApp(env.config),
    await createQueryWorkerApp(env.config),
  ];
  const gateway = await startTestGateway(env.config);
  return {
    env,
    gateway,
    workers,
    close: async () => {
      await gateway.close();
      for (const worker of workers) await worker.close();
      await env.cleanup();
    },
  };
}
