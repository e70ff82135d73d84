import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { hashApiKey } from '#libs/database';
import { ApiKeyStore } from '../apps/gateway/src/auth/api-key-store.js';
import { startTestGateway, type RunningGateway } from './support/gateway.js';
import { createTestEnvironment, waitFor, type TestEnvironment } from './support/test-environment.js';

const run = promisify(execFile);
const cli = (name: string) => fileURLToPath(new URL(`../apps/cli/src/${name}.js`, import.meta.url));

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

describe('operator CLI', () => {
  let env: TestEnvironment;
  let gateway: RunningGateway;
  before(async () => {
    env = await createTestEnvironment();
    gateway = await startTestGateway(env.config);
  });
  after(async () => {
    await gateway?.close();
    await env?.cleanup();
  });

  async function exec(script: string, args: string[]): Promise<CliResult> {
    const options = { env: { ...process.env, DATABASE_URL: env.config.DATABASE_URL, LOG_LEVEL: 'silent' } };
    try {
      const { stdout, stderr } = await run(process.execPath, [cli(script), ...args], options);
      return { code: 0, stdout, stderr };
    } catch (error: unknown) {
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  }
  const lastLine = (text: string) => text.trimEnd().split('\n').at(-1) ?? '';
  const listWith = (token: string) =>
    fetch(`${gateway.baseUrl}/documents`, { headers: { authorization: `Bearer ${token}` } });

  it('creates a key, printing the token last, and the token authenticates; revoking it makes it 401', async () => {
    const created = await exec('apikey', ['create', '--name', 'ops', '--rate-limit', '120']);
    assert.equal(created.code, 0, created.stderr);
    const token = lastLine(created.stdout);
    assert.match(token, /^rag_[A-Za-z0-9_-]{43}$/);
    const response = await listWith(token);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('ratelimit-limit'), '120');

    const revoked = await exec('apikey', ['revoke', '--name', 'ops']);
    assert.equal(revoked.code, 0, revoked.stderr);
    await waitFor(async () => ((await listWith(token)).status === 401 ? true : undefined), {
      timeoutMs: 5_000,
      intervalMs: 200,
      what: 'the revoked key to be refused',
    });
  });

  it('stores only the hash of an exact token given with --token', async () => {
    const created = await exec('apikey', ['create', '--name', 'load-1', '--token', 'test-load-token-1']);
    assert.equal(created.code, 0, created.stderr);
    assert.equal(lastLine(created.stdout), 'test-load-token-1');
    const client = new pg.Client({ connectionString: env.config.DATABASE_URL });
    await client.connect();
    const { rows } = await client.query<{ key_hash: string; rate_limit: number | null }>(
      'SELECT key_hash, rate_limit FROM api_keys WHERE name = $1',
      ['load-1'],
    );
    await client.end();
    assert.deepEqual(rows, [{ key_hash: hashApiKey('test-load-token-1'), rate_limit: null }]);
    assert.equal((await listWith('test-load-token-1')).status, 200);
  });

  it('creates a key in a tenant with only the scopes given', async () => {
    const created = await exec('apikey', [
      'create',
      '--name',
      'asker',
      '--tenant',
      'acme',
      '--scopes',
      'query',
    ]);
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /in tenant "acme", scopes query,/);
    const token = lastLine(created.stdout);
    const response = await listWith(token);
    assert.equal(response.status, 403);
    assert.match(((await response.json()) as { message: string }).message, /"documents:read"/);
  });

  it('lists every key with its tenant, scopes, limits and dates, and never a token or hash', async () => {
    const created = await exec('apikey', [
      'create',
      '--name',
      'listed',
      '--tenant',
      'listing-co',
      '--rate-limit',
      '77',
    ]);
    const token = lastLine(created.stdout);
    assert.equal((await listWith(token)).status, 200);
    const limited = await exec('apikey', ['tenant', '--tenant', 'listing-co', '--rate-limit', '500']);
    assert.equal(limited.code, 0, limited.stderr);
    // Uses reach `last_used_at` in batches; a flush writes them at once.
    await gateway.app.get(ApiKeyStore).flushLastUsed();

    const listed = await exec('apikey', ['list']);
    assert.equal(listed.code, 0, listed.stderr);
    const [header, ...rows] = listed.stdout.trimEnd().split('\n');
    assert.match(header ?? '', /^name\s+tenant\s+scopes\s+rate limit\s+created\s+revoked\s+last used/);
    const row = rows.find((line) => line.startsWith('listed '));
    assert.ok(row, listed.stdout);
    assert.match(
      row,
      /listing-co\s+documents:read,documents:write,query\s+77; tenant 500\s+\d{4}-\d\d-\d\dT\S+\s+-\s+\d{4}-/,
    );
    const revokedRow = rows.find((line) => line.startsWith('ops '));
    assert.match(revokedRow ?? '', /default\s+\S+\s+120\s+\S+\s+\d{4}-/, 'the revoked key shows when');
    assert.ok(!listed.stdout.includes(token));
    assert.ok(!listed.stdout.includes(hashApiKey(token)));
  });

  it('rotates a key: prints the new token last and keeps the old one until the grace period ends', async () => {
    const old = lastLine((await exec('apikey', ['create', '--name', 'rotated'])).stdout);
    const rotated = await exec('apikey', ['rotate', '--name', 'rotated', '--grace-minutes', '30']);
    assert.equal(rotated.code, 0, rotated.stderr);
    const fresh = lastLine(rotated.stdout);
    assert.match(fresh, /^rag_[A-Za-z0-9_-]{43}$/);
    assert.notEqual(fresh, old);
    assert.equal((await listWith(fresh)).status, 200);
    assert.equal((await listWith(old)).status, 200);
    const until = /old token works until (\S+)\./.exec(rotated.stdout)?.[1];
    const minutes = (new Date(until ?? 0).getTime() - Date.now()) / 60_000;
    assert.ok(minutes > 29 && minutes <= 30, `grace ends in ${minutes} minutes`);
    assert.equal((await exec('apikey', ['rotate', '--name', 'nobody'])).code, 1);
  });

  it('fails with a message when revoking a key that does not exist', async () => {
    const result = await exec('apikey', ['revoke', '--name', 'nobody']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /No active API key named "nobody"/);
  });

  it('exits 2 with usage on bad arguments', async () => {
    for (const args of [
      [],
      ['rename', '--name', 'x'],
      ['create'],
      ['create', '--name', 'x', '--rate-limit', '0'],
      ['create', '--bogus'],
      ['create', '--name', 'x', '--tenant', 'Not A Tenant'],
      ['create', '--name', 'x', '--scopes', 'query,admin'],
      ['rotate', '--name', 'x', '--grace-minutes', '-1'],
      ['revoke', '--name', 'x', '--tenant', 'acme'],
      ['tenant', '--tenant', 'acme'],
      ['list', '--name', 'x'],
    ]) {
      const result = await exec('apikey', args);
      assert.equal(result.code, 2, `apikey ${args.join(' ')}`);
      assert.match(result.stderr, /Usage:/);
    }
  });

  it('migrate reports that an up-to-date database needs nothing', async () => {
    const result = await exec('migrate', []);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /up to date/);
  });
});
