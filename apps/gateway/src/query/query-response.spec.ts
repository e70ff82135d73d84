import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { answerMembers, queryResponseJson, storedAnswerMembers } from './query-response.js';

const value = {
  answer: 'Open "Settings" → Security\n(see <link>)',
  sources: [
    { document_id: 'd1', chunk_id: '7', title: 'Ünïcode \u2028 title', snippet: 'a\\b', score: 0.123456789 },
  ],
};

describe('query response text', () => {
  it('writes exactly what serializing the response object gives', () => {
    for (const [query, cached, tookMs] of [
      ['how do I reset my "password"?', true, 0.37],
      ['как восстановить пароль?', false, 12],
      ['\u0000 control \t', true, 1234.56],
    ] as const) {
      const expected = JSON.stringify({
        query,
        answer: value.answer,
        sources: value.sources,
        cached,
        took_ms: tookMs,
      });
      assert.equal(queryResponseJson(query, answerMembers(value), cached, tookMs), expected);
    }
  });

  it('reads the members of an answer as Redis holds it, and nothing else', () => {
    assert.equal(storedAnswerMembers(JSON.stringify(value)), answerMembers(value));
    assert.equal(storedAnswerMembers('{"sources":[],"answer":"x"}'), undefined);
    assert.equal(storedAnswerMembers('not json'), undefined);
  });
});
