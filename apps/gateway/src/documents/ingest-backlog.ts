import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { QueueName } from '#libs/contracts';
import { JobProducer } from '#libs/queues';
import { RetryLaterException } from '../http/retry-later.exception.js';
import { withTimeout } from './with-timeout.js';

/** How old a reading of the waiting count may be: a few Redis calls a second per process, whatever the upload rate. */
const READING_MAX_AGE_MS = 250;
/** A reading that takes longer than this counts as unknown (Redis slow or down). */
const READING_TIMEOUT_MS = 500;
const RETRY_AFTER_S = 10;

/**
 * INGEST_MAX_WAITING: past that many waiting ingest jobs, uploads are refused with 503 before
 * their body is read, so a burst of uploads cannot grow Redis without bound. The count is
 * BullMQ's (wait list and prioritized set), read at most every 250 ms and shared by concurrent
 * uploads, so the limit is soft by the uploads of one such interval. When Redis does not answer
 * the upload goes on: Postgres holds it and the reconciler queues it later (API.md).
 */
@Injectable()
export class IngestBacklog {
  private readonly limit: number;
  private reading: { at: number; waiting: Promise<number | null> } | undefined;

  constructor(
    private readonly jobs: JobProducer,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.limit = config.INGEST_MAX_WAITING;
  }

  /** Throws 503 + Retry-After when the ingest queue is at its limit. */
  async assertRoom(): Promise<void> {
    if (this.limit === 0) return;
    const waiting = await this.waiting();
    if (waiting !== null && waiting >= this.limit) {
      throw new RetryLaterException(
        503,
        `ingest backlog: ${waiting} documents are waiting to be indexed, the limit is ${this.limit} (INGEST_MAX_WAITING); nothing was stored`,
        RETRY_AFTER_S,
      );
    }
  }

  private waiting(): Promise<number | null> {
    const now = Date.now();
    if (this.reading === undefined || now - this.reading.at > READING_MAX_AGE_MS) {
      const count = this.jobs.queue(QueueName.Ingest).getWaitingCount();
      this.reading = {
        at: now,
        waiting: withTimeout(count, READING_TIMEOUT_MS, 'ingest backlog reading').catch(() => null),
      };
    }
    return this.reading.waiting;
  }
}
