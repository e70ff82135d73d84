import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '#libs/config';
import { DEFAULT_TENANT, type TenantId } from '#libs/contracts';
import type { CorpusEvents } from '#libs/corpus';
import type { ChunkIndexRepository } from '#libs/database';
import { createLogger } from '#libs/observability';
import { IndexPublisher } from './index-publisher.js';

/** What the publisher did, in order: bumps (with their ids) and marks. */
type Step = ['bump' | 'mark', string[]];

function publisherWith(failingBumps: number): {
  publisher: IndexPublisher;
  steps: Step[];
  marked: Promise<void>;
} {
  const steps: Step[] = [];
  let bumpsLeftToFail = failingBumps;
  let onMarked = (): void => undefined;
  const marked = new Promise<void>((resolve) => (onMarked = resolve));
  const events = {
    documentsIndexed: (_tenant: TenantId, ids: readonly string[]) => {
      steps.push(['bump', [...ids]]);
      if (bumpsLeftToFail-- > 0) return Promise.reject(new Error('Redis is down'));
      return Promise.resolve(1);
    },
  } as unknown as CorpusEvents;
  const chunkIndex = {
    markIndexed: (_tenant: TenantId, ids: readonly string[]) => {
      steps.push(['mark', [...ids]]);
      onMarked();
      return Promise.resolve([...ids]);
    },
  } as unknown as ChunkIndexRepository;
  const config = loadConfig({ INGEST_PUBLISH_INTERVAL_MS: '0' });
  const publisher = new IndexPublisher(config, events, chunkIndex, createLogger('test', 'silent'));
  return { publisher, steps, marked };
}

describe('IndexPublisher', () => {
  it('bumps the version once for the documents scheduled together, then marks them indexed', async () => {
    const { publisher, steps, marked } = publisherWith(0);
    publisher.schedule(DEFAULT_TENANT, 'a');
    publisher.schedule(DEFAULT_TENANT, 'b');
    await marked;
    assert.deepEqual(steps, [
      ['bump', ['a', 'b']],
      ['mark', ['a', 'b']],
    ]);
  });

  it('keeps documents whose publication failed and publishes them with the next batch', async () => {
    const { publisher, steps, marked } = publisherWith(1);
    publisher.schedule(DEFAULT_TENANT, 'a');
    await marked;
    assert.deepEqual(steps, [
      ['bump', ['a']],
      ['bump', ['a']],
      ['mark', ['a']],
    ]);
  });

  it('publishes what is waiting when stopped, and schedules nothing after', async () => {
    const { publisher, steps } = publisherWith(1);
    publisher.schedule(DEFAULT_TENANT, 'a');
    await publisher.stop();
    // The failed attempt leaves the document written, for a reconciler: no retry timer keeps the process up.
    assert.deepEqual(steps, [['bump', ['a']]]);
  });
});
