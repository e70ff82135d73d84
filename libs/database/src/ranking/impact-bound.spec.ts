import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { IMPACT_KEY_REFERENCE, impactBoundSlope } from './impact-bound.js';

/** The key the term_df trigger stores (migration 1764600000000). */
const keyOf = (tf: number, length: number): number =>
  (1 - IMPACT_KEY_REFERENCE.b + (IMPACT_KEY_REFERENCE.b * length) / IMPACT_KEY_REFERENCE.averageLength) / tf;

const weightOf = (tf: number, length: number, k1: number, b: number, averageLength: number): number =>
  (tf * (k1 + 1)) / (tf + k1 * (1 - b + (b * length) / averageLength));

describe('impactBoundSlope', () => {
  it('bounds every posting weight through its key, for any k1, b and average length', () => {
    let tightest = 0;
    for (const k1 of [0.6, 0.9, 1.2, 1.5, 2]) {
      for (const b of [0, 0.3, 0.4, 0.5, 0.75, 1]) {
        for (const averageLength of [20, 128, 145, 600]) {
          const slope = impactBoundSlope({ k1, b }, averageLength);
          for (const tf of [1, 2, 3, 7, 40]) {
            for (const length of [tf, 10, 100, 145, 1000]) {
              const bound = (k1 + 1) / (1 + slope * keyOf(tf, length));
              const weight = weightOf(tf, length, k1, b, averageLength);
              assert.ok(weight <= bound, `k1 ${k1} b ${b} avgdl ${averageLength} tf ${tf} dl ${length}`);
              tightest = Math.max(tightest, weight / bound);
            }
          }
        }
      }
    }
    // At the reference parameters the bound is exact, not merely safe.
    assert.ok(tightest > 0.999999);
  });
});
