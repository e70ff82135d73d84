import { setTimeout as sleep } from 'node:timers/promises';
import { Inject, Injectable } from '@nestjs/common';
import { AnswerDemand, AnswerStore, queryCacheKey, queryJobId } from '#libs/answer-cache';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { JobName, type TenantId } from '#libs/contracts';
import { JobProducer } from '#libs/queues';

/** How often the warmer looks whether its answers are stored. */
const POLL_MS = 5;

/**
 * Computes the answers to a tenant's hot questions under a version before it is published (ADR
 * 0031), so that when gateways move to it those questions are found in the shared cache instead
 * of all missing at once. The jobs are the ones a gateway's miss would enqueue (same job ids),
 * so a gateway that misses before they finish waits for the same job. Best effort: past
 * CACHE_WARM_WAIT_MS the version is published anyway, and unfinished answers still arrive.
 */
@Injectable()
export class AnswerWarmer {
  private readonly questions: number;
  private readonly waitMs: number;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly demand: AnswerDemand,
    private readonly store: AnswerStore,
    private readonly producer: JobProducer,
  ) {
    this.questions = config.CACHE_WARM_QUESTIONS;
    this.waitMs = config.CACHE_WARM_WAIT_MS;
  }

  /** Returns how many answers were stored under `version` within the wait. */
  async warm(tenant: TenantId, version: number): Promise<{ asked: number; stored: number }> {
    if (this.questions === 0) return { asked: 0, stored: 0 };
    // Asked under the version being retired or the one before it (a delete may have come between).
    const questions = await this.demand.hottest(tenant, version - 2, this.questions);
    if (questions.length === 0) return { asked: 0, stored: 0 };
    const keys = questions.map((question) => queryCacheKey(tenant, version, question));
    await this.producer.enqueueMany(
      JobName.AnswerQuery,
      questions.map((question, index) => ({
        payload: { tenant, ...question, corpusVersion: version, requestId: `warm-${version}` },
        options: { jobId: queryJobId(keys[index]) },
      })),
    );
    const deadline = performance.now() + this.waitMs;
    let stored = await this.store.countStored(keys);
    while (stored < keys.length && performance.now() < deadline) {
      await sleep(POLL_MS);
      stored = await this.store.countStored(keys);
    }
    return { asked: keys.length, stored };
  }
}
