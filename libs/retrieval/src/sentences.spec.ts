import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { splitSentences } from './sentences.js';

describe('splitSentences', () => {
  it('splits after end punctuation before a capital, digit or quote', () => {
    const texts = splitSentences('First one. Second one! 3 is a number? «Кавычки» тоже. end').map(
      (s) => s.text,
    );
    assert.deepEqual(texts, ['First one.', 'Second one!', '3 is a number?', '«Кавычки» тоже. end']);
  });

  it('keeps decimals and lower-case continuations inside a sentence', () => {
    assert.deepEqual(
      splitSentences('The rate rose 3.5 percent, e.g. in spring. Then it fell.').map((s) => s.text),
      ['The rate rose 3.5 percent, e.g. in spring.', 'Then it fell.'],
    );
  });

  it('ends a sentence at a blank line or a list item and joins wrapped lines', () => {
    assert.deepEqual(splitSentences('Heading\n\nA wrapped\nline here.\n\n- item one\n- item two'), [
      { text: 'Heading', index: 0 },
      { text: 'A wrapped line here.', index: 1 },
      { text: '- item one', index: 2 },
      { text: '- item two', index: 3 },
    ]);
  });

  it('returns nothing for blank text', () => {
    assert.deepEqual(splitSentences(' \n\n '), []);
  });
});
