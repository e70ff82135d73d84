import { Inject, Injectable, Logger } from '@nestjs/common';
import { LRUCache } from 'lru-cache';
import {
  AnswerDemand,
  normaliseQuery,
  queryCacheKey,
  queryJobId,
  type QueryRequest,
} from '#libs/answer-cache';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { JobName, RedisKey, type TenantId } from '#libs/contracts';
import { CorpusVersion } from '#libs/corpus';
import { JobProducer } from '#libs/queues';
import { RedisClient } from '#libs/redis';
import { withTimeout } from '../documents/with-timeout.js';
import { RetryLaterException } from '../http/retry-later.exception.js';
import { GatewayMetrics } from '../metrics/gateway-metrics.js';
import { answerMembers, storedAnswerMembers } from './query-response.js';
import { QueryResults } from './query-results.js';

/**
 * Distinct questions a process may wait on at once. Past it the query workers are far behind
 * and more waiting only builds a backlog that times out: answer 503 at once instead.
 */
export const MAX_PENDING_MISSES = 2_000;
const RETRY_AFTER_S = 1;

export interface Answer {
  /** The answer's JSON members (query-response.ts), ready to be spliced into the response. */
  members: string;
  cached: boolean;
}

/**
 * Answers from the in-process LRU, then Redis, then a query worker (which stores what it
 * computes in Redis). Keys carry the tenant and its corpus version held in memory, so a hit costs
 * no round trip and no re-parse (both levels hold the answer as JSON text); identical concurrent
 * misses share one flight in this process and one BullMQ job (same job id) across processes.
 * Each miss of the LRU is noted as demand, so publications compute hot answers ahead (ADR 0031).
 */
@Injectable()
export class QueryService {
  private readonly logger = new Logger(QueryService.name);
  private readonly l1: LRUCache<string, string> | undefined;
  private readonly flights = new Map<string, Promise<Answer>>();
  /** A hung Redis never refuses the job: give up as a shared-connection command would. */
  private readonly enqueueTimeoutMs: number;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly corpusVersion: CorpusVersion,
    private readonly redis: RedisClient,
    private readonly producer: JobProducer,
    private readonly results: QueryResults,
    private readonly metrics: GatewayMetrics,
    private readonly demand: AnswerDemand,
  ) {
    this.enqueueTimeoutMs = config.REDIS_COMMAND_TIMEOUT_MS;
    this.l1 =
      config.QUERY_CACHE_L1_ENTRIES > 0
        ? new LRUCache({ max: config.QUERY_CACHE_L1_ENTRIES, ttl: config.QUERY_CACHE_TTL_S * 1000 })
        : undefined;
  }

  /**
   * The answer from this process's memory alone, or undefined: what the cached-answer hook serves
   * before Nest's pipeline (cached-answers.ts). `query` must be trimmed.
   */
  fromMemory(tenant: TenantId, query: string, topK: number, collection: string | null): string | undefined {
    const request: QueryRequest = { query: normaliseQuery(query), topK, collection };
    return this.l1Hit(queryCacheKey(tenant, this.corpusVersion.current(tenant), request));
  }

  async answer(
    tenant: TenantId,
    query: string,
    topK: number,
    collection: string | null,
    requestId: string,
  ): Promise<Answer> {
    const request: QueryRequest = { query: normaliseQuery(query), topK, collection };
    const version = this.corpusVersion.current(tenant);
    const key = queryCacheKey(tenant, version, request);

    const hit = this.l1Hit(key);
    if (hit !== undefined) return { members: hit, cached: true };

    let flight = this.flights.get(key);
    if (flight === undefined) {
      if (this.flights.size >= MAX_PENDING_MISSES) {
        throw new RetryLaterException(
          503,
          'too many queries waiting for a query worker; retry shortly',
          RETRY_AFTER_S,
        );
      }
      flight = this.fly(tenant, key, version, request, requestId).finally(() => this.flights.delete(key));
      this.flights.set(key, flight);
    }
    const answer = await flight;
    (answer.cached ? this.metrics.queryCacheHits : this.metrics.queryCacheMisses).inc();
    return answer;
  }

  private l1Hit(key: string): string | undefined {
    const hit = this.l1?.get(key);
    if (hit !== undefined) this.metrics.queryCacheHits.inc();
    return hit;
  }

  private async fly(
    tenant: TenantId,
    key: string,
    version: number,
    request: QueryRequest,
    requestId: string,
  ): Promise<Answer> {
    this.demand
      .note(tenant, version, request)
      .catch((error: Error) => this.logger.warn(`noting a question failed: ${error.message}`));
    const stored = await this.redis.get(RedisKey.QueryCache(key)).catch((error: Error) => {
      // Without the shared cache a worker can still answer; enqueueing reports Redis being down.
      this.logger.warn(`query cache read failed: ${error.message}`);
      return null;
    });
    const storedMembers = stored === null ? undefined : storedAnswerMembers(stored);
    if (storedMembers !== undefined) {
      this.l1?.set(key, storedMembers);
      return { members: storedMembers, cached: true };
    }

    const jobId = queryJobId(key);
    const result = this.results.wait(jobId);
    // A worker can fail the job before `add` below returns; that rejection is awaited only after
    // it. Unhandled until then, it ended the process (Node's default for unhandled rejections).
    result.catch(() => undefined);
    try {
      await withTimeout(
        this.producer.enqueue(
          JobName.AnswerQuery,
          { tenant, ...request, corpusVersion: version, requestId },
          { jobId },
        ),
        this.enqueueTimeoutMs,
        'enqueue',
      );
    } catch (error) {
      this.results.cancel(
        jobId,
        new RetryLaterException(503, 'the query queue is unavailable', RETRY_AFTER_S),
      );
      this.logger.warn(`query enqueue failed: ${(error as Error).message}`);
    }
    const { answer, sources } = await result;
    const members = answerMembers({ answer, sources });
    this.l1?.set(key, members);
    return { members, cached: false };
  }
}
