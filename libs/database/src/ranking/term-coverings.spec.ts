import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  coveringPays,
  coveringQuery,
  minimalCoverings,
  tsqueryOperand,
  type BoundedTerm,
} from './term-coverings.js';

/** Every subset of the terms whose ceilings sum to at least theta and which loses that without any one term. */
function bruteForce(terms: BoundedTerm[], theta: number): string[] {
  const found: string[] = [];
  for (let mask = 1; mask < 1 << terms.length; mask++) {
    const set = terms.filter((_, i) => (mask & (1 << i)) !== 0);
    const sum = set.reduce((total, term) => total + term.ceiling, 0);
    if (sum < theta) continue;
    if (set.every((term) => sum - term.ceiling < theta)) found.push(key(set.map((term) => term.lexeme)));
  }
  return found.sort();
}

const key = (set: string[]): string => [...set].sort().join('+');

/** A small deterministic generator, so a failure names its case. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

describe('minimalCoverings', () => {
  it('finds exactly the minimal term sets reaching theta (checked against every subset)', () => {
    const next = random(7);
    for (let round = 0; round < 300; round++) {
      const terms = Array.from({ length: 1 + Math.floor(next() * 8) }, (_, i) => ({
        lexeme: `t${i}`,
        ceiling: Math.round(next() * 100) / 10,
      }));
      const total = terms.reduce((sum, term) => sum + term.ceiling, 0);
      const theta = next() * total * 1.1;
      const sets = minimalCoverings(terms, theta, 10_000);
      assert.ok(sets !== null);
      assert.deepEqual(sets.map(key).sort(), bruteForce(terms, theta), `round ${round}, theta ${theta}`);
    }
  });

  it('returns no set when the terms together cannot reach theta, and each term alone at theta 0', () => {
    const terms = [
      { lexeme: 'a', ceiling: 2 },
      { lexeme: 'b', ceiling: 1 },
    ];
    assert.deepEqual(minimalCoverings(terms, 3.5, 10), []);
    assert.deepEqual(minimalCoverings(terms, 0, 10)?.map(key).sort(), ['a', 'b']);
  });

  it('gives up (null) past the set limit', () => {
    const terms = Array.from({ length: 12 }, (_, i) => ({ lexeme: `t${i}`, ceiling: 1 }));
    // Every 6 of 12: 924 sets.
    assert.equal(minimalCoverings(terms, 6, 100), null);
    assert.equal(minimalCoverings(terms, 6, 1000)?.length, 924);
  });
});

describe('coveringQuery', () => {
  it('ORs the sets, ANDs their terms, and quotes lexemes for tsquery input', () => {
    assert.equal(
      coveringQuery([['cell', "o'brien"], ['back\\slash']]),
      `('cell' & 'o''brien') | ('back\\\\slash')`,
    );
    assert.equal(tsqueryOperand('клетка'), `'клетка'`);
  });
});

describe('coveringPays', () => {
  const cases: { name: string; df: [string, number][]; sets: string[][]; chunks: number; pays: boolean }[] = [
    {
      name: 'takes the covering pass when its sets are rare terms that rule out most postings',
      df: [
        ['rare', 150],
        ['dimension', 15_000],
        ['show', 300_000],
      ],
      sets: [
        ['rare', 'dimension'],
        ['rare', 'show'],
      ],
      chunks: 1_000_000,
      pays: true,
    },
    {
      name: 'reads every posting instead when the sets are common terms that many chunks match',
      df: [
        ['cell', 200_000],
        ['effect', 250_000],
        ['show', 300_000],
      ],
      sets: [
        ['cell', 'effect'],
        ['cell', 'show'],
        ['effect', 'show'],
      ],
      chunks: 1_000_000,
      pays: false,
    },
    {
      name: 'reads every posting when there are too few for pruning to win anything',
      df: [
        ['rare', 15],
        ['dimension', 1_500],
        ['show', 30_000],
      ],
      sets: [
        ['rare', 'dimension'],
        ['rare', 'show'],
      ],
      chunks: 100_000,
      pays: false,
    },
  ];
  for (const { name, df, sets, chunks, pays } of cases) {
    it(name, () => {
      assert.equal(coveringPays(sets, new Map(df), chunks), pays);
    });
  }
});
