import type { JobsOptions } from 'bullmq';
import { QueueName } from '#libs/contracts';
import type { AppConfig } from '#libs/config';

export interface QueueSettings {
  /** Jobs at once per worker process. */
  concurrency: number;
  /** How long a worker may hold a job without renewing its lock before the job counts as stalled. */
  lockDurationMs: number;
  /**
   * How often a worker looks for stalled jobs (BullMQ's default is 30 s). With the lock, it bounds
   * how long a crashed worker's jobs wait before another worker takes them: at most the sum.
   */
  stalledIntervalMs: number;
  jobOptions: JobsOptions;
}

/** One row per queue: adding a queue without settings does not compile. */
export function queueSettings(config: AppConfig): { readonly [Q in QueueName]: QueueSettings } {
  return {
    [QueueName.Ingest]: {
      // Jobs in hand, not threads: most of them wait on a grouped write or on publication
      // (ADR 0027), and extraction queues for its INGEST_CONCURRENCY threads.
      concurrency: Math.max(config.INGEST_BATCH_SIZE, config.INGEST_CONCURRENCY),
      // A worker renews its locks every half lock; extraction runs off the event loop (ADR 0016),
      // so renewals keep up. The lock bounds how long a crashed worker's documents wait.
      lockDurationMs: config.INGEST_LOCK_DURATION_MS,
      stalledIntervalMs: Math.min(config.INGEST_LOCK_DURATION_MS, 30_000),
      jobOptions: {
        attempts: config.INGEST_ATTEMPTS,
        backoff: { type: 'exponential', delay: 1_000 },
        // Postgres keeps each document's outcome; Redis keeps only enough history for the dashboard.
        removeOnComplete: { count: 1_000, age: 24 * 3600 },
        removeOnFail: { count: 5_000, age: 7 * 24 * 3600 },
      },
    },
    [QueueName.Query]: {
      concurrency: config.QUERY_CONCURRENCY,
      lockDurationMs: 30_000,
      stalledIntervalMs: 30_000,
      jobOptions: {
        // The gateway gives up after QUERY_TIMEOUT_MS; a retry would answer nobody.
        attempts: 1,
        // Removed at once so the same cache key can be enqueued again right after.
        removeOnComplete: true,
        removeOnFail: true,
      },
    },
  };
}

/** BullMQ keys live under the deployment's prefix too. */
export function bullPrefix(config: AppConfig): string {
  return `${config.REDIS_KEY_PREFIX}:bull`;
}
