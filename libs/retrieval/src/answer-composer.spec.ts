import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  composeAnswer,
  NO_MATCH_ANSWER,
  selectSentences,
  truncate,
  type SentenceCandidate,
} from './answer-composer.js';

const sentence = (chunkRank: number, index: number, text: string, matched: string[]): SentenceCandidate => ({
  chunkRank,
  index,
  text,
  matched: new Set(matched),
});

const idf = new Map([
  ['password', 2],
  ['reset', 1.5],
  ['link', 1],
  ['expir', 3],
]);

describe('selectSentences', () => {
  it('prefers sentences carrying rarer query terms and returns them in reading order', () => {
    const chosen = selectSentences(
      [
        sentence(0, 0, 'Intro without terms.', []),
        sentence(0, 1, 'Reset your password here.', ['reset', 'password']),
        sentence(0, 2, 'The link expires in an hour.', ['link', 'expir']),
        sentence(1, 0, 'Passwords are secret.', ['password']),
      ],
      idf,
      { maxSentences: 2, maxChars: 600 },
    );
    assert.deepEqual(
      chosen.map((s) => s.text),
      ['Reset your password here.', 'The link expires in an hour.'],
    );
  });

  it('prefers the higher-ranked chunk when two sentences match the same terms', () => {
    const chosen = selectSentences(
      [
        sentence(3, 0, 'Password reset, chunk four.', ['password', 'reset']),
        sentence(0, 5, 'Password reset, chunk one.', ['password', 'reset']),
      ],
      idf,
      { maxSentences: 1, maxChars: 600 },
    );
    assert.equal(chosen[0].text, 'Password reset, chunk one.');
  });

  it('skips repeated sentences from overlapping chunks and keeps within the character budget', () => {
    const long = `Password ${'x'.repeat(80)}.`;
    const chosen = selectSentences(
      [
        sentence(0, 0, 'Reset the password.', ['reset', 'password']),
        sentence(1, 0, 'Reset the password.', ['reset', 'password']),
        sentence(1, 1, long, ['expir']),
        sentence(2, 0, 'Link sent.', ['link']),
      ],
      idf,
      { maxSentences: 3, maxChars: 60 },
    );
    assert.deepEqual(
      chosen.map((s) => s.text),
      ['Reset the password.', 'Link sent.'],
    );
  });

  it('takes a sentence adding no new term only when it continues a chosen one', () => {
    const chosen = selectSentences(
      [
        sentence(0, 0, 'Accounts have a password.', ['password']),
        sentence(0, 1, 'To reset a password, ask.', ['reset', 'password']),
        sentence(0, 2, 'We send a reset link.', ['reset', 'link']),
        sentence(0, 3, 'The reset takes a minute.', ['reset']),
        sentence(1, 0, 'Password reset elsewhere.', ['password', 'reset']),
      ],
      idf,
    );
    assert.deepEqual(
      chosen.map((s) => s.text),
      ['To reset a password, ask.', 'We send a reset link.', 'The reset takes a minute.'],
    );
  });
});

describe('composeAnswer', () => {
  it('answers that nothing matches when there are no candidates', () => {
    assert.equal(composeAnswer([], idf), NO_MATCH_ANSWER);
  });

  it('falls back to the opening of the best chunk when no sentence names a query term', () => {
    assert.equal(
      composeAnswer(
        [sentence(0, 0, 'First.', []), sentence(0, 1, 'Second.', []), sentence(1, 0, 'Other.', [])],
        idf,
      ),
      'First. Second.',
    );
  });

  it('joins the chosen sentences with spaces', () => {
    assert.equal(
      composeAnswer(
        [sentence(0, 0, 'Reset it.', ['reset']), sentence(0, 1, 'The link expires.', ['link', 'expir'])],
        idf,
      ),
      'Reset it. The link expires.',
    );
  });
});

describe('truncate', () => {
  it('cuts at a word boundary and marks the cut', () => {
    assert.equal(truncate('one two three four', 12), 'one two…');
    assert.equal(truncate('short', 12), 'short');
  });
});
