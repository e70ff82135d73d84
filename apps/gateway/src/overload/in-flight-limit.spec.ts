import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { registerInFlightLimit } from './in-flight-limit.js';

describe('in-flight limit', () => {
  let fastify: FastifyInstance;
  let baseUrl: string;
  const held: (() => void)[] = [];

  before(async () => {
    fastify = Fastify({ forceCloseConnections: true });
    registerInFlightLimit(fastify, 2);
    fastify.get('/query', () => new Promise((resolve) => held.push(() => resolve({ answered: true }))));
    fastify.get('/health/live', () => ({ status: 'ok' }));
    await fastify.listen({ port: 0, host: '127.0.0.1' });
    const address = fastify.server.address();
    assert.ok(address !== null && typeof address === 'object');
    baseUrl = `http://127.0.0.1:${address.port}`;
  });
  after(() => fastify.close());

  const waitForHeld = async (count: number): Promise<void> => {
    while (held.length < count) await new Promise((resolve) => setTimeout(resolve, 5));
  };

  it('sheds past the limit with 503 and Retry-After, answers liveness, and admits again once answers are sent', async () => {
    const first = fetch(`${baseUrl}/query`);
    const second = fetch(`${baseUrl}/query`);
    await waitForHeld(2);

    const shed = await fetch(`${baseUrl}/query`);
    assert.equal(shed.status, 503);
    assert.equal(shed.headers.get('retry-after'), '1');
    assert.match(((await shed.json()) as { message: string }).message, /more than 2 requests in flight/);
    assert.equal((await fetch(`${baseUrl}/health/live`)).status, 200, 'liveness is never shed');

    for (const release of held.splice(0)) release();
    assert.equal((await first).status, 200);
    assert.equal((await second).status, 200);

    const admitted = fetch(`${baseUrl}/query`);
    await waitForHeld(1);
    for (const release of held.splice(0)) release();
    assert.equal((await admitted).status, 200, 'the slots were given back');
  });

  it('gives the slot back when the client goes away before the answer', async () => {
    const aborts = [new AbortController(), new AbortController()];
    const pending = aborts.map((abort) =>
      fetch(`${baseUrl}/query`, { signal: abort.signal }).catch(() => undefined),
    );
    await waitForHeld(2);
    for (const abort of aborts) abort.abort();
    await Promise.all(pending);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const next = fetch(`${baseUrl}/query`);
    await waitForHeld(3);
    for (const release of held.splice(0)) release();
    assert.equal((await next).status, 200);
  });
});
