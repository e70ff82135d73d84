import { WorkerHost } from '@nestjs/bullmq';
import { Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { UnrecoverableError, type Job } from 'bullmq';
import { AnswerStore, queryCacheKey } from '#libs/answer-cache';
import type { AppConfig } from '#libs/config';
import {
  INDEX_UNAVAILABLE_REASON,
  JobName,
  QueueName,
  type AnswerQueryPayload,
  type AnswerQueryResult,
} from '#libs/contracts';
import { isDatabaseUnavailable } from '#libs/database';
import { disconnectWhileRedisIsDown } from '#libs/queues';
import { ReadRouting } from './read-routing.js';

/**
 * Answers questions from the index and stores each answer in the shared cache under the key its
 * payload implies (tenant, version, request) before the job completes. QueryModule registers it through `configuredProcessor`
 * (concurrency and lock from the settings table, created idle); it takes jobs only once the
 * whole app, database pool included, is up.
 */
export class AnswerQueryProcessor
  extends WorkerHost
  implements OnApplicationBootstrap, BeforeApplicationShutdown
{
  private readonly logger = new Logger(AnswerQueryProcessor.name);

  constructor(
    private readonly reads: ReadRouting,
    private readonly answers: AnswerStore,
    private readonly config: AppConfig,
  ) {
    super();
  }

  onApplicationBootstrap(): void {
    this.logger.log(`consuming "${QueueName.Query}" jobs, ${this.worker.concurrency} at once`);
    this.worker
      .run()
      .catch((error: Error) => this.logger.error(`query worker stopped: ${error.message}`, error.stack));
  }

  /** Finishes the jobs in hand before the database pool and Redis connections close. */
  async beforeApplicationShutdown(): Promise<void> {
    disconnectWhileRedisIsDown([this.worker]);
    await this.worker.close();
  }

  async process(job: Job<AnswerQueryPayload, AnswerQueryResult>): Promise<AnswerQueryResult> {
    if (job.name !== JobName.AnswerQuery) throw new Error(`unknown job "${job.name}" on the query queue`);
    // Every gateway stopped waiting after QUERY_TIMEOUT_MS: answering now only deepens a backlog.
    const waitedMs = Date.now() - job.timestamp;
    if (waitedMs > this.config.QUERY_TIMEOUT_MS) {
      throw new UnrecoverableError(`expired: waited ${waitedMs} ms in the queue, past QUERY_TIMEOUT_MS`);
    }
    const started = performance.now();
    const { tenant, query, topK, collection, corpusVersion, requestId } = job.data;
    const { answer, sources, readFrom } = await this.reads
      .answer({ tenant, query, topK, collection, corpusVersion })
      .catch((error: unknown) => {
        if (!isDatabaseUnavailable(error)) throw error;
        throw new UnrecoverableError(`${INDEX_UNAVAILABLE_REASON}: ${(error as Error).message}`);
      });
    // A gateway waiting on this job gets the answer from its completion either way; the store
    // serves later misses and publications computing answers ahead (ADR 0031).
    await this.answers
      .store(queryCacheKey(tenant, corpusVersion, { query, topK, collection }), { answer, sources })
      .catch((error: Error) => this.logger.warn(`query cache write failed: ${error.message}`));
    const durationMs = Math.round((performance.now() - started) * 100) / 100;
    this.logger.debug(
      `answered job ${job.id} (tenant ${tenant}, request ${requestId ?? '-'}) from ${readFrom}: ${sources.length} sources in ${durationMs} ms`,
    );
    return { answer, sources, durationMs };
  }
}
