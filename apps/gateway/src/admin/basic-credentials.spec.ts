import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BasicCredentials } from './basic-credentials.js';

const header = (pair: string): string => `Basic ${Buffer.from(pair).toString('base64')}`;

describe('BasicCredentials', () => {
  const credentials = new BasicCredentials('operator', 'pa:ss wörd');

  it('accepts the exact user and password, a colon inside the password included', () => {
    assert.equal(credentials.check(header('operator:pa:ss wörd')), 'valid');
    assert.equal(
      credentials.check(`basic  ${Buffer.from('operator:pa:ss wörd').toString('base64')}`),
      'valid',
    );
  });

  it('refuses a wrong user, a wrong password, a prefix of either, or no colon', () => {
    for (const pair of ['operator:pa:ss', 'Operator:pa:ss wörd', 'operato:pa:ss wörd', 'operator', ':']) {
      assert.equal(credentials.check(header(pair)), 'invalid', pair);
    }
  });

  it('tells a request without Basic credentials apart from a wrong login', () => {
    for (const authorization of [undefined, '', 'Bearer token', 'Basic']) {
      assert.equal(credentials.check(authorization), 'absent', String(authorization));
    }
  });
});
