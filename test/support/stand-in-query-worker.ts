import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'bullmq';
import { AnswerStore, queryCacheKey } from '#libs/answer-cache';
import type { AppConfig } from '#libs/config';
import { QueueName, type AnswerQueryPayload, type AnswerQueryResult } from '#libs/contracts';
import { bullPrefix } from '#libs/queues';
import { RedisClient, redisOptionsFromUrl } from '#libs/redis';

/** Questions containing this word take a while, so that concurrent requests overlap. */
export const SLOW_WORD = 'slowly';
/** Questions containing this word make the stand-in fail the job. */
export const FAIL_WORD = 'explode';

export interface StandInQueryWorker {
  /** Every job payload it processed, in order. */
  readonly jobs: AnswerQueryPayload[];
  readonly worker: Worker<AnswerQueryPayload, AnswerQueryResult>;
  close(): Promise<void>;
}

/**
 * Answers the query queue by the AnswerQueryResult contract, standing in for the real query
 * worker: the gateway's side of the seam is tested without retrieval. As the real worker, it
 * stores each answer in the shared cache before completing the job.
 */
export async function startStandInQueryWorker(config: AppConfig): Promise<StandInQueryWorker> {
  const jobs: AnswerQueryPayload[] = [];
  const documentId = randomUUID();
  const redis = new RedisClient(config);
  await redis.onModuleInit();
  const answers = new AnswerStore(config, redis);
  const worker = new Worker<AnswerQueryPayload, AnswerQueryResult>(
    QueueName.Query,
    async (job) => {
      jobs.push(job.data);
      if (job.data.query.includes(FAIL_WORD)) throw new Error('retrieval exploded');
      if (job.data.query.includes(SLOW_WORD)) await sleep(300);
      const { tenant, corpusVersion, query, topK, collection } = job.data;
      const answer = {
        answer: `answer to "${query}" at corpus version ${corpusVersion}`,
        sources: Array.from({ length: Math.min(topK, 2) }, (_, index) => ({
          document_id: documentId,
          chunk_id: String(index + 1),
          title: 'Stand-in document',
          snippet: `passage ${index + 1}`,
          score: 1 - index / 10,
        })),
      };
      await answers.store(queryCacheKey(tenant, corpusVersion, { query, topK, collection }), answer);
      return { ...answer, durationMs: 4 };
    },
    {
      connection: { ...redisOptionsFromUrl(config.REDIS_URL), maxRetriesPerRequest: null },
      prefix: bullPrefix(config),
      concurrency: 8,
    },
  );
  await worker.waitUntilReady();
  return {
    jobs,
    worker,
    close: async () => {
      await worker.close();
      await redis.onApplicationShutdown();
    },
  };
}
