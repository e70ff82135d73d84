import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { GroupCommit, withFallback, type Outcome } from './group-commit.js';

describe('GroupCommit', () => {
  it('sends items of one tick as one group, and what arrives meanwhile as the next, up to maxGroup', async () => {
    const groups: number[][] = [];
    let openGate = (): void => undefined;
    const gate = new Promise<void>((resolve) => (openGate = resolve));
    const commit = new GroupCommit(async (items: number[]): Promise<Outcome<number>[]> => {
      groups.push(items);
      // The first group stays in flight until the later items have arrived.
      if (groups.length === 1) await gate;
      return items.map((item) => ({ ok: true, value: item * 2 }));
    }, 3);
    const first = [1, 2].map((item) => commit.submit(item));
    await nextTurn();
    const later = [3, 4, 5, 6].map((item) => commit.submit(item));
    openGate();
    assert.deepEqual(await Promise.all([...first, ...later]), [2, 4, 6, 8, 10, 12]);
    assert.deepEqual(groups, [[1, 2], [3, 4, 5], [6]]);
  });

  it('fails every item of a group whose runner throws, and goes on with the next group', async () => {
    let calls = 0;
    const commit = new GroupCommit<number, number>((items) => {
      calls++;
      if (calls === 1) return Promise.reject(new Error('database down'));
      return Promise.resolve(items.map((item) => ({ ok: true, value: item })));
    }, 10);
    const failed = await Promise.allSettled([commit.submit(1), commit.submit(2)]);
    assert.deepEqual(
      failed.map((outcome) => outcome.status),
      ['rejected', 'rejected'],
    );
    assert.equal(await commit.submit(3), 3);
  });
});

describe('withFallback', () => {
  it('runs the whole group at once when it can, and item by item when the group fails', async () => {
    const runOne = (item: number): Promise<number> =>
      item === 13 ? Promise.reject(new Error('unlucky')) : Promise.resolve(item);
    const runMany = (items: number[]): Promise<number[]> =>
      items.includes(13)
        ? Promise.reject(new Error('group failed'))
        : Promise.resolve(items.map((item) => item * 10));
    const runner = withFallback(runMany, runOne);
    assert.deepEqual(await runner([1, 2]), [
      { ok: true, value: 10 },
      { ok: true, value: 20 },
    ]);
    const outcomes = await runner([1, 13, 2]);
    assert.deepEqual(
      outcomes.map((outcome) => (outcome.ok ? outcome.value : (outcome.error as Error).message)),
      [1, 'unlucky', 2],
    );
  });
});
