import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '#libs/config';
import { DEFAULT_TENANT, type TenantId } from '#libs/contracts';
import type { CorpusEvents } from '#libs/corpus';
import type { ChunkIndexRepository } from '#libs/database';
import { createLogger } from '#libs/observability';
import type { AnswerWarmer } from './answer-warmer.js';
import { IndexPublisher } from './index-publisher.js';

/** The version the stubbed events hand out to every publication. */
const VERSION = 7;

/**
 * What the publisher did, in order: answers computed ahead (with the version), version
 * publications (with their ids) and marks.
 */
type Step = ['warm' | 'bump' | 'mark', (string | number)[]];

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
    reserveVersion: () => Promise.resolve(VERSION),
    documentsIndexed: (_tenant: TenantId, version: number, ids: readonly string[]) => {
      assert.equal(version, VERSION, 'publishes the version it reserved');
      steps.push(['bump', [...ids]]);
      if (bumpsLeftToFail-- > 0) return Promise.reject(new Error('Redis is down'));
      return Promise.resolve();
    },
  } as unknown as CorpusEvents;
  const warmer = {
    warm: (_tenant: TenantId, version: number) => {
      steps.push(['warm', [version]]);
      return Promise.resolve({ asked: 0, stored: 0 });
    },
  } as unknown as AnswerWarmer;
  const chunkIndex = {
    markIndexed: (_tenant: TenantId, ids: readonly string[]) => {
      steps.push(['mark', [...ids]]);
      onMarked();
      return Promise.resolve([...ids]);
    },
  } as unknown as ChunkIndexRepository;
  const config = loadConfig({ INGEST_PUBLISH_INTERVAL_MS: '0' });
  const publisher = new IndexPublisher(config, events, chunkIndex, warmer, createLogger('test', 'silent'));
  return { publisher, steps, marked };
}

describe('IndexPublisher', () => {
  it('computes hot answers ahead, publishes one version for the documents scheduled together, then marks them indexed', async () => {
    const { publisher, steps, marked } = publisherWith(0);
    publisher.schedule(DEFAULT_TENANT, 'a');
    publisher.schedule(DEFAULT_TENANT, 'b');
    await marked;
    assert.deepEqual(steps, [
      ['warm', [VERSION]],
      ['bump', ['a', 'b']],
      ['mark', ['a', 'b']],
    ]);
  });

  it('keeps documents whose publication failed and publishes them with the next batch', async () => {
    const { publisher, steps, marked } = publisherWith(1);
    publisher.schedule(DEFAULT_TENANT, 'a');
    await marked;
    assert.deepEqual(steps, [
      ['warm', [VERSION]],
      ['bump', ['a']],
      ['warm', [VERSION]],
      ['bump', ['a']],
      ['mark', ['a']],
    ]);
  });

  it('publishes what is waiting when stopped, and schedules nothing after', async () => {
    const { publisher, steps } = publisherWith(1);
    publisher.schedule(DEFAULT_TENANT, 'a');
    await publisher.stop();
    // The failed attempt leaves the document written, for a reconciler: no retry timer keeps the process up.
    assert.deepEqual(steps, [
      ['warm', [VERSION]],
      ['bump', ['a']],
    ]);
  });
});
