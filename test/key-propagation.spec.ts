import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { createApiKey } from './support/api-keys.js';
import { createTestEnvironment, waitFor, type TestEnvironment } from './support/test-environment.js';

const run = promisify(execFile);
const dist = (path: string) => fileURLToPath(new URL(`../${path}`, import.meta.url));
const WORKERS = 2;
/** Sequential requests on fresh connections: node:cluster hands them out round-robin, so each process answers some. */
const PROBES = 4 * WORKERS;

/**
 * Revocation and rotation reach every process of a real node:cluster gateway (each holds its own
 * in-memory key cache) within seconds, without a restart.
 */
describe('API key changes across gateway processes', () => {
  let env: TestEnvironment;
  let gateway: ChildProcess;
  let port: number;
  const startedPids = new Set<string>();

  before(async () => {
    env = await createTestEnvironment();
    // A port from this suite's range; fixed because every cluster worker must listen on the same one.
    port = 21_000 + Math.floor(Math.random() * 1_000);
    gateway = spawn(process.execPath, [dist('apps/gateway/src/main.js')], {
      env: {
        ...process.env,
        DATABASE_URL: env.config.DATABASE_URL,
        DATABASE_POOL_SIZE: '2',
        REDIS_URL: env.config.REDIS_URL,
        REDIS_KEY_PREFIX: env.config.REDIS_KEY_PREFIX,
        PORT: String(port),
        HOST: '127.0.0.1',
        GATEWAY_WORKERS: String(WORKERS),
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let buffered = '';
    gateway.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        // The primary reports each worker whose server is accepting connections.
        if (line.includes('gateway worker listening')) {
          startedPids.add(/"workerPid":(\d+)/.exec(line)?.[1] ?? '');
        }
      }
    });
    await waitFor(() => Promise.resolve(startedPids.size === WORKERS ? true : undefined), {
      timeoutMs: 120_000,
      intervalMs: 200,
      what: `${WORKERS} gateway processes to start`,
    });
  });

  after(async () => {
    if (gateway !== undefined && gateway.exitCode === null) {
      gateway.kill('SIGTERM');
      await once(gateway, 'exit');
    }
    await env?.cleanup();
  });

  /** The status of a GET /documents on a new connection each time, one after the other. */
  async function statuses(token: string): Promise<number[]> {
    const results: number[] = [];
    for (let i = 0; i < PROBES; i++) {
      results.push(
        await new Promise<number>((resolve, reject) => {
          const request = http.get(
            {
              host: '127.0.0.1',
              port,
              path: '/documents',
              agent: false,
              headers: { authorization: `Bearer ${token}` },
            },
            (response) => {
              response.resume();
              response.on('end', () => resolve(response.statusCode ?? 0));
            },
          );
          request.on('error', reject);
        }),
      );
    }
    return results;
  }

  async function waitEverywhere(token: string, status: number, what: string): Promise<void> {
    await waitFor(
      async () => {
        const seen = await statuses(token);
        return seen.every((value) => value === status) ? true : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 250, what },
    );
  }

  async function apikey(args: string[]): Promise<string> {
    const { stdout } = await run(process.execPath, [dist('apps/cli/src/apikey.js'), ...args], {
      env: { ...process.env, DATABASE_URL: env.config.DATABASE_URL, LOG_LEVEL: 'silent' },
    });
    return stdout;
  }

  it('refuses a revoked key in every process within seconds', async () => {
    const token = await createApiKey(env.config, { name: 'revoke-me' });
    // Waits out a cold start's load shedding (503): every process must answer 200 before the change.
    await waitEverywhere(token, 200, 'every process to accept the key');
    await apikey(['revoke', '--name', 'revoke-me']);
    await waitEverywhere(token, 401, 'every process to refuse the revoked key');
  });

  it('accepts a rotated key by both tokens during the grace period, then only by the new one', async () => {
    const old = await createApiKey(env.config, { name: 'rotate-me' });
    await waitEverywhere(old, 200, 'every process to accept the key');

    const output = await apikey(['rotate', '--name', 'rotate-me']);
    const fresh = output.trimEnd().split('\n').at(-1) ?? '';
    assert.match(output, /old token works until/);
    await waitEverywhere(fresh, 200, 'every process to accept the new token');
    await waitEverywhere(old, 200, 'every process to keep accepting the old token');

    // The grace period ends (as if a day had passed).
    const client = new pg.Client({ connectionString: env.config.DATABASE_URL });
    await client.connect();
    await client.query(`UPDATE api_keys SET previous_key_expires_at = now() WHERE name = 'rotate-me'`);
    await client.end();
    await waitEverywhere(old, 401, 'every process to refuse the rotated-out token');
    await waitEverywhere(fresh, 200, 'every process to keep accepting the new token');
  });

  it('stops the old token within seconds when rotated with --grace-minutes 0', async () => {
    const old = await createApiKey(env.config, { name: 'rotate-now' });
    await waitEverywhere(old, 200, 'every process to accept the key');
    const fresh = (await apikey(['rotate', '--name', 'rotate-now', '--grace-minutes', '0']))
      .trimEnd()
      .split('\n')
      .at(-1);
    await waitEverywhere(old, 401, 'every process to refuse the replaced token');
    await waitEverywhere(fresh ?? '', 200, 'every process to accept the new token');
  });
});
