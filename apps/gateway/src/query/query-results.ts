import {
  BadGatewayException,
  GatewayTimeoutException,
  Inject,
  Injectable,
  Logger,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { QueueEvents } from 'bullmq';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { INDEX_UNAVAILABLE_REASON, QueueName, type AnswerQueryResult } from '#libs/contracts';
import { bullPrefix, disconnectWhileRedisIsDown } from '#libs/queues';
import { redisOptionsFromUrl } from '#libs/redis';
import { RetryLaterException } from '../http/retry-later.exception.js';

/** As an upload refused while the database is down (DocumentsService). */
const INDEX_RETRY_AFTER_S = 5;

interface Waiter {
  resolve(result: AnswerQueryResult): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * Delivers query workers' answers to the requests waiting for them: ONE QueueEvents listener per
 * process and a map of job ids, instead of `job.waitUntilFinished` per request (a listener per
 * call, and a "Missing key" error for a job that already finished and was removed).
 */
@Injectable()
export class QueryResults implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(QueryResults.name);
  private readonly events: QueueEvents;
  private readonly waiters = new Map<string, Waiter>();
  private readonly timeoutMs: number;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.timeoutMs = config.QUERY_TIMEOUT_MS;
    this.events = new QueueEvents(QueueName.Query, {
      // Blocking reads must retry forever, as BullMQ requires.
      connection: { ...redisOptionsFromUrl(config.REDIS_URL), maxRetriesPerRequest: null },
      prefix: bullPrefix(config),
      autorun: false,
    });
  }

  get pending(): number {
    return this.waiters.size;
  }

  async onModuleInit(): Promise<void> {
    this.events.on('error', (error) => this.logger.warn(`query events: ${error.message}`));
    // BullMQ 6 parses `returnvalue` from JSON before emitting.
    this.events.on('completed', ({ jobId, returnvalue }) => this.settle(jobId, returnvalue));
    // The reason (an SQL error, a stack) is for the logs; the client learns only that it failed.
    this.events.on('failed', ({ jobId, failedReason }) => {
      if (!this.waiters.has(jobId)) return;
      this.logger.warn(`query job ${jobId} failed: ${failedReason.slice(0, 300)}`);
      this.fail(
        jobId,
        failedReason.startsWith(INDEX_UNAVAILABLE_REASON)
          ? new RetryLaterException(503, 'the index is unavailable; retry shortly', INDEX_RETRY_AFTER_S)
          : new BadGatewayException(`the query worker failed to answer (job ${jobId})`),
      );
    });
    this.events.run().catch((error: Error) => this.logger.error(`query events stopped: ${error.message}`));
    await this.events.waitUntilReady();
  }

  /** After the HTTP server has drained, so no request still waits for an answer. */
  async onApplicationShutdown(): Promise<void> {
    for (const jobId of [...this.waiters.keys()]) {
      this.fail(jobId, new GatewayTimeoutException('the gateway is shutting down'));
    }
    disconnectWhileRedisIsDown([this.events]);
    await this.events.close();
  }

  /**
   * Must be called BEFORE the job is added: a fast worker can finish it before `add` returns.
   * Rejects with 504 after QUERY_TIMEOUT_MS, 502 when the worker fails.
   */
  wait(jobId: string): Promise<AnswerQueryResult> {
    return new Promise<AnswerQueryResult>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          this.fail(
            jobId,
            new GatewayTimeoutException(`no query worker answered within ${this.timeoutMs} ms`),
          ),
        this.timeoutMs,
      );
      this.waiters.set(jobId, { resolve, reject, timer });
    });
  }

  /** The request gave up before its job was queued (enqueue failed). */
  cancel(jobId: string, error: Error): void {
    this.fail(jobId, error);
  }

  private settle(jobId: string, result: unknown): void {
    const waiter = this.take(jobId);
    if (waiter === undefined) return;
    if (isAnswer(result)) waiter.resolve(result);
    else waiter.reject(new BadGatewayException('the query worker returned a malformed result'));
  }

  private fail(jobId: string, error: Error): void {
    this.take(jobId)?.reject(error);
  }

  private take(jobId: string): Waiter | undefined {
    const waiter = this.waiters.get(jobId);
    if (waiter === undefined) return undefined;
    clearTimeout(waiter.timer);
    this.waiters.delete(jobId);
    return waiter;
  }
}

function isAnswer(value: unknown): value is AnswerQueryResult {
  const candidate = value as Partial<AnswerQueryResult> | null;
  return typeof candidate?.answer === 'string' && Array.isArray(candidate.sources);
}
