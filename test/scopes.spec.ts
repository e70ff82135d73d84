import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ALL_SCOPES, Scope } from '#libs/contracts';
import { createApiKey } from './support/api-keys.js';
import { startTestGateway, type RunningGateway } from './support/gateway.js';
import { startStandInQueryWorker, type StandInQueryWorker } from './support/stand-in-query-worker.js';
import { createTestEnvironment, type TestEnvironment } from './support/test-environment.js';

interface OpenApi {
  paths: Record<
    string,
    Record<string, { security?: unknown[]; responses: Record<string, { description?: string }> }>
  >;
}

const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

/** API.md, "Tenants and scopes": the scope each protected route needs, and a request that exercises it. */
const ROUTES: Record<
  string,
  { scope: Scope; path: string; body?: unknown; contentType?: string; allowed: number }
> = {
  'GET /documents': { scope: Scope.DocumentsRead, path: '/documents', allowed: 200 },
  'GET /documents/{id}': { scope: Scope.DocumentsRead, path: `/documents/${UNKNOWN_ID}`, allowed: 404 },
  'POST /documents': {
    scope: Scope.DocumentsWrite,
    path: '/documents',
    body: { title: 'Scoped', content: 'written with the write scope' },
    allowed: 202,
  },
  'POST /documents/batch': {
    scope: Scope.DocumentsWrite,
    path: '/documents/batch',
    body: '{"title": "Scoped", "content": "written in a batch with the write scope"}',
    contentType: 'application/x-ndjson',
    allowed: 200,
  },
  'DELETE /documents/{id}': { scope: Scope.DocumentsWrite, path: `/documents/${UNKNOWN_ID}`, allowed: 404 },
  'POST /query': { scope: Scope.Query, path: '/query', body: { query: 'reset password' }, allowed: 200 },
};

describe('API key scopes', () => {
  let env: TestEnvironment;
  let gateway: RunningGateway;
  let standIn: StandInQueryWorker;
  /** One key per single scope, one with every scope, one with none. */
  const tokens = new Map<string, string>();

  before(async () => {
    env = await createTestEnvironment();
    standIn = await startStandInQueryWorker(env.config);
    gateway = await startTestGateway(env.config);
    for (const scope of ALL_SCOPES) tokens.set(scope, await createApiKey(env.config, { scopes: [scope] }));
    tokens.set('all', await createApiKey(env.config));
    tokens.set('none', await createApiKey(env.config, { scopes: [] }));
  });
  after(async () => {
    await gateway?.close();
    await standIn?.close();
    await env?.cleanup();
  });

  function call(route: string, token: string, body?: unknown): Promise<Response> {
    const [method] = route.split(' ');
    const spec = ROUTES[route];
    const payload = body ?? spec?.body;
    return fetch(`${gateway.baseUrl}${spec?.path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(payload === undefined ? {} : { 'content-type': spec?.contentType ?? 'application/json' }),
      },
      body:
        payload === undefined ? undefined : typeof payload === 'string' ? payload : JSON.stringify(payload),
    });
  }

  it('knows the scope of every protected route in the OpenAPI document, and each lists its 403', async () => {
    const document = (await (await fetch(`${gateway.baseUrl}/docs-json`)).json()) as OpenApi;
    const protectedRoutes = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods)
        .filter(([, operation]) => (operation.security?.length ?? 0) > 0)
        .map(([method, operation]) => ({ route: `${method.toUpperCase()} ${path}`, operation })),
    );
    // A new route fails here until its scope is added to this table (and to API.md).
    assert.deepEqual(protectedRoutes.map(({ route }) => route).sort(), Object.keys(ROUTES).sort());
    for (const { route, operation } of protectedRoutes) {
      const forbidden = operation.responses['403'];
      assert.ok(forbidden, `${route} documents its 403`);
      assert.match(forbidden.description ?? '', new RegExp(ROUTES[route]?.scope ?? '-'), route);
    }
  });

  for (const [route, spec] of Object.entries(ROUTES)) {
    it(`${route}: 403 naming "${spec.scope}" for every key without it; ${spec.allowed} with it`, async () => {
      for (const [holder, token] of tokens) {
        const response = await call(route, token);
        const text = await response.text();
        if (holder === spec.scope || holder === 'all') {
          assert.equal(response.status, spec.allowed, `${holder}: ${text}`);
        } else {
          assert.equal(response.status, 403, `${holder}: ${text}`);
          const error = JSON.parse(text) as { statusCode: number; error: string; message: string };
          assert.deepEqual([error.statusCode, error.error], [403, 'Forbidden']);
          assert.ok(error.message.includes(`"${spec.scope}"`), error.message);
        }
      }
    });
  }

  it('refuses a key without the scope before reading an upload or query body', async () => {
    const readOnly = tokens.get(Scope.DocumentsRead) ?? '';
    // Bodies the gateway would answer 400 (malformed) or 413 (too large) for, had it read them.
    for (const [route, body] of [
      ['POST /documents', '{"title": "x", "content": '],
      [
        'POST /documents',
        JSON.stringify({ title: 'big', content: 'x'.repeat(env.config.MAX_UPLOAD_BYTES + 1) }),
      ],
      ['POST /query', '{"query": '],
    ] as const) {
      const response = await call(route, readOnly, body);
      assert.equal(response.status, 403, `${route} ${body.slice(0, 20)}`);
      await response.arrayBuffer();
    }
  });
});
