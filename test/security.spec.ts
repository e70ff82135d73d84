import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createApiKey } from './support/api-keys.js';
import { startTestGateway, type RunningGateway } from './support/gateway.js';
import { createTestEnvironment, waitFor, type TestEnvironment } from './support/test-environment.js';

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Headers every answer must carry, with the value they must have. */
const EXPECTED_HEADERS: Record<string, string | RegExp> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy': /frame-ancestors 'none'/,
  'strict-transport-security': /^max-age=\d+/,
  'cross-origin-resource-policy': 'same-origin',
};

function assertSecurityHeaders(response: Response, what: string): void {
  for (const [name, expected] of Object.entries(EXPECTED_HEADERS)) {
    const value = response.headers.get(name);
    if (typeof expected === 'string') assert.equal(value, expected, `${what}: ${name}`);
    else assert.match(value ?? '', expected, `${what}: ${name}`);
  }
}

describe('security: headers, CORS, rate limits that headers cannot bypass', () => {
  let env: TestEnvironment;
  let gateway: RunningGateway;
  let token: string;
  before(async () => {
    env = await createTestEnvironment({ ANONYMOUS_RATE_LIMIT_PER_MINUTE: '3', MAX_UPLOAD_BYTES: '1024' });
    gateway = await startTestGateway(env.config);
    token = await createApiKey(env.config);
  });
  after(async () => {
    await gateway?.close();
    await env?.cleanup();
  });

  it('sets the security headers on answers of every kind, the API as JSON that nothing may run', async () => {
    const url = gateway.baseUrl;
    const answers: Array<[string, Promise<Response>]> = [
      ['200 liveness', fetch(`${url}/health/live`)],
      ['200 list', fetch(`${url}/documents`, { headers: bearer(token) })],
      ['400 bad id', fetch(`${url}/documents/not-a-uuid`, { headers: bearer(token) })],
      ['400 bad percent-encoding', fetch(`${url}/documents/%ff`, { headers: bearer(token) })],
      ['414 long path parameter', fetch(`${url}/documents/${'a'.repeat(500)}`, { headers: bearer(token) })],
      ['404 unknown route', fetch(`${url}/no-such-route`)],
      [
        '413 too large',
        fetch(`${url}/documents`, {
          method: 'POST',
          headers: { ...bearer(token), 'content-type': 'application/json' },
          body: JSON.stringify({ title: 'x', content: 'y'.repeat(2000) }),
        }),
      ],
      ['OpenAPI document', fetch(`${url}/docs-json`)],
    ];
    for (const [what, pending] of answers) {
      const response = await pending;
      assertSecurityHeaders(response, what);
      assert.match(response.headers.get('content-type') ?? '', /^application\/json/, what);
      assert.ok(response.headers.get('x-request-id'), `${what}: x-request-id`);
      const body = (await response.json()) as { statusCode?: number; message?: string };
      if (response.status >= 400) {
        assert.equal(body.statusCode, response.status, what);
        assert.equal(typeof body.message, 'string', what);
        assert.doesNotMatch(body.message ?? '', /a{100}/, `${what}: echoes the path`);
      }
    }
  });

  it('lets the OpenAPI page load its own scripts and styles, and nothing from elsewhere', async () => {
    const page = await fetch(`${gateway.baseUrl}/docs`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    const policy = page.headers.get('content-security-policy') ?? '';
    assert.match(policy, /default-src 'self'/);
    assert.match(policy, /frame-ancestors 'none'/);
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
  });

  it('sends no CORS headers when CORS_ORIGINS is not set, even to a preflight', async () => {
    const preflight = await fetch(`${gateway.baseUrl}/query`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://evil.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    });
    assert.equal(preflight.headers.get('access-control-allow-origin'), null);
    const simple = await fetch(`${gateway.baseUrl}/documents`, {
      headers: { ...bearer(token), origin: 'https://evil.example' },
    });
    assert.equal(simple.status, 200);
    assert.equal(simple.headers.get('access-control-allow-origin'), null);
  });

  it('counts failed authentications per socket address: X-Forwarded-For and friends change nothing while TRUST_PROXY is off', async () => {
    const spoofs: Array<Record<string, string>> = [
      { 'x-forwarded-for': '203.0.113.1' },
      { 'x-forwarded-for': '203.0.113.2, 10.0.0.1' },
      { 'x-real-ip': '203.0.113.3', forwarded: 'for=203.0.113.3' },
      { 'x-forwarded-for': '203.0.113.4', 'x-client-ip': '203.0.113.4', 'true-client-ip': '203.0.113.4' },
    ];
    const statuses: number[] = [];
    for (const [attempt, spoof] of spoofs.entries()) {
      const response = await fetch(`${gateway.baseUrl}/documents`, {
        headers: { ...bearer(`spoofed-guess-${attempt}`), ...spoof },
      });
      statuses.push(response.status);
      assertSecurityHeaders(response, String(response.status));
      await response.arrayBuffer();
    }
    assert.deepEqual(statuses, [401, 401, 401, 429]);
  });

  it("counts a key's requests whose bodies fail to parse: malformed bodies do not bypass its limit", async () => {
    const limited = await createApiKey(env.config, { rateLimit: 2 });
    const statuses: number[] = [];
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const response = await fetch(`${gateway.baseUrl}/query`, {
        method: 'POST',
        headers: {
          ...bearer(limited),
          'content-type': 'application/json',
          'x-forwarded-for': `198.51.100.${attempt}`,
        },
        body: '{"query": ',
      });
      statuses.push(response.status);
      await response.arrayBuffer();
    }
    assert.deepEqual(statuses, [400, 400, 429]);
  });
});

describe('CORS with an allow-list', () => {
  let env: TestEnvironment;
  let gateway: RunningGateway;
  before(async () => {
    env = await createTestEnvironment({ CORS_ORIGINS: 'https://app.example, http://localhost:5173' });
    gateway = await startTestGateway(env.config);
  });
  after(async () => {
    await gateway?.close();
    await env?.cleanup();
  });

  it('answers a preflight from a listed origin, and not from any other', async () => {
    const preflight = (origin: string) =>
      fetch(`${gateway.baseUrl}/query`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type',
        },
      });
    const allowed = await preflight('https://app.example');
    assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://app.example');
    assert.match(allowed.headers.get('access-control-allow-headers') ?? '', /Authorization/i);
    assert.equal(allowed.headers.get('access-control-allow-credentials'), null);
    const refused = await preflight('https://evil.example');
    assert.equal(refused.headers.get('access-control-allow-origin'), null);
    const exposed = await fetch(`${gateway.baseUrl}/health/live`, {
      headers: { origin: 'http://localhost:5173' },
    });
    assert.equal(exposed.headers.get('access-control-allow-origin'), 'http://localhost:5173');
    assert.match(exposed.headers.get('access-control-expose-headers') ?? '', /Retry-After/i);
  });
});

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('logs of a gateway process', () => {
  let env: TestEnvironment;
  let child: ChildProcess;
  let output = '';
  let baseUrl: string;
  const metricsToken = 'metrics-token-that-must-not-be-logged';
  before(async () => {
    env = await createTestEnvironment();
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    const { config } = env;
    child = spawn(process.execPath, ['dist/apps/gateway/src/main.js'], {
      env: {
        ...process.env,
        NODE_ENV: 'test',
        LOG_LEVEL: 'trace',
        PORT: String(port),
        HOST: '127.0.0.1',
        GATEWAY_WORKERS: '1',
        DATABASE_URL: config.DATABASE_URL,
        DATABASE_POOL_SIZE: '2',
        REDIS_URL: config.REDIS_URL,
        REDIS_KEY_PREFIX: config.REDIS_KEY_PREFIX,
        METRICS_TOKEN: metricsToken,
        // No query worker runs: a query times out and is logged with its request.
        QUERY_TIMEOUT_MS: '300',
        OVERLOAD_MAX_EVENT_LOOP_DELAY_MS: '0',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitFor(
      async () => {
        const response = await fetch(`${baseUrl}/health/live`).catch(() => undefined);
        return response?.status === 200 ? true : undefined;
      },
      {
        timeoutMs: 60_000,
        intervalMs: 200,
        what: `the gateway process to listen (output: ${output.slice(-500)})`,
      },
    );
  });
  after(async () => {
    if (child?.exitCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
    await env?.cleanup();
  });

  it('never contains the Authorization header or a token, though the requests carrying them are logged', async () => {
    const token = await createApiKey(env.config);
    const guessed = 'guessed-token-that-must-not-be-logged';
    const requestId = 'logged-request-1';
    const timedOut = await fetch(`${baseUrl}/query`, {
      method: 'POST',
      headers: { ...bearer(token), 'content-type': 'application/json', 'x-request-id': requestId },
      body: JSON.stringify({ query: 'what is logged?' }),
    });
    assert.equal(timedOut.status, 504);
    assert.equal((await fetch(`${baseUrl}/documents`, { headers: bearer(guessed) })).status, 401);
    assert.equal(
      (await fetch(`${baseUrl}/metrics`, { headers: bearer(`${metricsToken}-wrong`) })).status,
      401,
    );
    assert.equal((await fetch(`${baseUrl}/metrics`, { headers: bearer(metricsToken) })).status, 200);
    // The 504 is logged with its request id: the log is really being written.
    await waitFor(() => Promise.resolve(output.includes(requestId) ? true : undefined), {
      timeoutMs: 10_000,
      what: 'the timed-out query in the log',
    });
    for (const secret of [token, guessed, metricsToken]) {
      assert.equal(output.includes(secret), false, `the log contains ${secret}`);
    }
  });
});
