import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from './load-config.js';

describe('loadConfig', () => {
  it('reads comma-separated lists, dropping blanks and empty items', () => {
    const config = loadConfig({
      METRICS_TENANTS: ' default, acme ,,',
      CORS_ORIGINS: 'https://app.example.com, http://localhost:3000',
      DATABASE_REPLICA_URLS: '',
    });
    assert.deepEqual(config.METRICS_TENANTS, ['default', 'acme']);
    assert.deepEqual(config.CORS_ORIGINS, ['https://app.example.com', 'http://localhost:3000']);
    assert.deepEqual(config.DATABASE_REPLICA_URLS, []);
    assert.deepEqual(loadConfig({}).METRICS_TENANTS, ['default']);
  });

  it('refuses tenant label values that would collide with "other" and "none", and bad tenant names', () => {
    for (const METRICS_TENANTS of ['default,other', 'none', 'Acme']) {
      assert.throws(() => loadConfig({ METRICS_TENANTS }), ConfigError, METRICS_TENANTS);
    }
  });

  it('refuses a headers deadline longer than the whole request deadline', () => {
    assert.throws(
      () => loadConfig({ HEADERS_TIMEOUT_MS: '20000', REQUEST_TIMEOUT_MS: '10000' }),
      /HEADERS_TIMEOUT_MS must not exceed REQUEST_TIMEOUT_MS/,
    );
    const config = loadConfig({ HEADERS_TIMEOUT_MS: '5000', REQUEST_TIMEOUT_MS: '5000' });
    assert.equal(config.HEADERS_TIMEOUT_MS, 5000);
  });

  it('names every bad variable at once', () => {
    assert.throws(
      () => loadConfig({ INGEST_MAX_WAITING: '-1', INGEST_MAX_QUEUED_PER_TENANT: 'many' }),
      (error: Error) =>
        /INGEST_MAX_WAITING/.test(error.message) && /INGEST_MAX_QUEUED_PER_TENANT/.test(error.message),
    );
  });
});
