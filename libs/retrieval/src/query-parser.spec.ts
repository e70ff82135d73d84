import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { normalizeQuestion, parseQuestion } from './query-parser.js';

describe('parseQuestion', () => {
  it('keeps plain words as ranking text, normalised and single-spaced', () => {
    const parsed = parseQuestion('  How do I\treset my\u00a0password?\n');
    assert.equal(parsed.normalized, 'How do I reset my password?');
    assert.equal(parsed.text, 'How do I reset my password?');
    assert.deepEqual(parsed.phrases, []);
    assert.deepEqual(parsed.excludes, []);
  });

  it('reads quoted phrases in straight, curly and Russian quotes and still ranks by their words', () => {
    const parsed = parseQuestion('"reset link" expiry «сброс пароля» “two factor”');
    assert.deepEqual(parsed.phrases, ['reset link', 'сброс пароля', 'two factor']);
    assert.equal(parsed.text, 'expiry reset link сброс пароля two factor');
  });

  it('reads -excluded words but leaves hyphens inside words and lone minus signs alone', () => {
    const parsed = parseQuestion('e-mail password -rotation - 5 -вход');
    assert.deepEqual(parsed.excludes, ['rotation', 'вход']);
    assert.equal(parsed.text, 'e-mail password - 5');
  });

  it('treats an unclosed quote as an ordinary character', () => {
    const parsed = parseQuestion('"reset password');
    assert.deepEqual(parsed.phrases, []);
    assert.equal(parsed.text, '"reset password');
  });

  it('leaves nothing to rank when the question has only exclusions', () => {
    assert.equal(parseQuestion('-password -token').text, '');
  });
});

describe('normalizeQuestion', () => {
  it('folds compatibility forms and drops control characters', () => {
    assert.equal(normalizeQuestion('ﬁle\u0000name\u200b x'), 'file name x');
  });
});
