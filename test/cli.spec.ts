import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { hashApiKey } from '#libs/database';
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

  it('fails with a message when revoking a key that does not exist', async () => {
    const result = await exec('apikey', ['revoke', '--name', 'nobody']);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /No active API key named "nobody"/);
  });

  it('exits 2 with usage on bad arguments', async () => {
    for (const args of [
      [],
      ['rotate', '--name', 'x'],
      ['create'],
      ['create', '--name', 'x', '--rate-limit', '0'],
      ['create', '--bogus'],
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
