import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { exceedsJsonDepth } from './json-depth.js';

const nested = (depth: number): unknown => JSON.parse('['.repeat(depth) + ']'.repeat(depth)) as unknown;

describe('exceedsJsonDepth', () => {
  it('counts objects and arrays as levels, scalars as none', () => {
    assert.equal(exceedsJsonDepth('text', 0), false);
    assert.equal(exceedsJsonDepth({}, 0), true);
    assert.equal(exceedsJsonDepth({ a: { b: [1] } }, 3), false);
    assert.equal(exceedsJsonDepth({ a: { b: [1] } }, 2), true);
  });

  it('finds the deep branch beside shallow ones', () => {
    assert.equal(exceedsJsonDepth({ flat: 1, wide: [1, 2, 3], deep: nested(40) }, 32), true);
  });

  it('walks a million levels without overflowing the stack', () => {
    assert.equal(exceedsJsonDepth(nested(1_000_000), 32), true);
  });
});
