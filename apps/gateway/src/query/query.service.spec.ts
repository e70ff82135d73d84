import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AnswerDemand } from '#libs/answer-cache';
import type { AppConfig } from '#libs/config';
import { DEFAULT_TENANT, type AnswerQueryResult } from '#libs/contracts';
import type { CorpusVersion } from '#libs/corpus';
import type { JobProducer } from '#libs/queues';
import type { RedisClient } from '#libs/redis';
import { GatewayMetrics } from '../metrics/gateway-metrics.js';
import type { QueryResults } from './query-results.js';
import { RetryLaterException } from '../http/retry-later.exception.js';
import { MAX_PENDING_MISSES, QueryService } from './query.service.js';

const noDemand = { note: () => Promise.resolve() } as unknown as AnswerDemand;

/**
 * The shedding limit, with the Redis and queue edges stubbed: reaching it for real would take
 * thousands of concurrent HTTP requests. The integration tests cover the path end to end.
 */
describe('QueryService load shedding', () => {
  it(`sheds a new question with 503 once ${MAX_PENDING_MISSES} distinct misses are waiting, but lets identical ones join`, async () => {
    const waiting: ((result: AnswerQueryResult) => void)[] = [];
    const service = new QueryService(
      { QUERY_CACHE_TTL_S: 60, QUERY_CACHE_L1_ENTRIES: 10_000, REDIS_COMMAND_TIMEOUT_MS: 2_000 } as AppConfig,
      { current: () => 1 } as unknown as CorpusVersion,
      { get: () => Promise.resolve(null) } as unknown as RedisClient,
      { enqueue: () => Promise.resolve() } as unknown as JobProducer,
      {
        wait: () => new Promise<AnswerQueryResult>((resolve) => waiting.push(resolve)),
        cancel: () => undefined,
      } as unknown as QueryResults,
      new GatewayMetrics(),
      noDemand,
    );

    const pending = Array.from({ length: MAX_PENDING_MISSES }, (_, index) =>
      service.answer(DEFAULT_TENANT, `question ${index}`, 5, null, 'request'),
    );
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(waiting.length, MAX_PENDING_MISSES);

    await assert.rejects(
      service.answer(DEFAULT_TENANT, 'one question too many', 5, null, 'request'),
      (error) => {
        assert.ok(error instanceof RetryLaterException);
        assert.equal(error.getStatus(), 503);
        return true;
      },
    );
    const joined = service.answer(DEFAULT_TENANT, '  QUESTION 0 ', 5, null, 'request');

    for (const resolve of waiting) resolve({ answer: 'a', sources: [], durationMs: 1 });
    await Promise.all(pending);
    assert.deepEqual(await joined, { members: '"answer":"a","sources":[]', cached: false });
    // Once answered, the slots are free again.
    assert.equal((await service.answer(DEFAULT_TENANT, 'question 0', 5, null, 'request')).cached, true);
  });
});

describe('QueryService when the worker fails the job before enqueue returns', () => {
  it('answers the request with the failure and leaves no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      let failJob: (error: Error) => void = () => undefined;
      let finishEnqueue: () => void = () => undefined;
      const service = new QueryService(
        {
          QUERY_CACHE_TTL_S: 60,
          QUERY_CACHE_L1_ENTRIES: 10_000,
          REDIS_COMMAND_TIMEOUT_MS: 2_000,
        } as AppConfig,
        { current: () => 1 } as unknown as CorpusVersion,
        { get: () => Promise.resolve(null) } as unknown as RedisClient,
        // `add` still in flight when the worker's failure arrives (a fast worker, a slow Redis reply).
        {
          enqueue: () => new Promise<void>((resolve) => (finishEnqueue = resolve)),
        } as unknown as JobProducer,
        {
          wait: () => new Promise<AnswerQueryResult>((_resolve, reject) => (failJob = reject)),
          cancel: () => undefined,
        } as unknown as QueryResults,
        new GatewayMetrics(),
        noDemand,
      );
      const answer = service.answer(DEFAULT_TENANT, 'a question', 5, null, 'request');
      await new Promise((resolve) => setImmediate(resolve));
      failJob(new RetryLaterException(503, 'the index is unavailable; retry shortly', 5));
      // Past the microtask checkpoint at which Node reports an unhandled rejection.
      await new Promise((resolve) => setTimeout(resolve, 10));
      finishEnqueue();
      await assert.rejects(answer, RetryLaterException);
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
