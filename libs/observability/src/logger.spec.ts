import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger } from './logger.js';

function capture(): { stream: Writable; lines: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, lines: () => text };
}

describe('createLogger', () => {
  it('redacts authorization headers, tokens and passwords wherever a log call puts them', () => {
    const { stream, lines } = capture();
    const logger = createLogger('test', 'info', stream);
    logger.info({ req: { headers: { authorization: 'Bearer secret-1', 'x-request-id': 'r1' } } }, 'request');
    logger.info({ headers: { authorization: 'Bearer secret-2', cookie: 'session=secret-3' } }, 'headers');
    logger.info({ authorization: 'Bearer secret-4', token: 'secret-5', password: 'secret-6' }, 'flat');
    logger.info({ key: { token: 'secret-7' } }, 'nested');
    const output = lines();
    for (let n = 1; n <= 7; n += 1) assert.equal(output.includes(`secret-${n}`), false, `secret-${n}`);
    assert.match(output, /"x-request-id":"r1"/);
    assert.equal(output.match(/\[Redacted\]/g)?.length, 7);
  });
});
