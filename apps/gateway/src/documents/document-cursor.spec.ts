import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeCursor, encodeCursor } from './document-cursor.js';

describe('document cursor', () => {
  it('round-trips a position exactly', () => {
    const position = {
      createdAt: new Date('2026-11-27T10:11:12.345Z'),
      id: '3f0c1a9e-2f4b-4d7e-9a51-0c2b8f7e6d11',
    };
    assert.deepEqual(decodeCursor(encodeCursor(position)), position);
  });

  it('rejects strings it did not make', () => {
    assert.equal(decodeCursor('not-a-cursor'), undefined);
    assert.equal(decodeCursor(Buffer.from('123.not-a-uuid').toString('base64url')), undefined);
    assert.equal(decodeCursor(''), undefined);
  });
});
