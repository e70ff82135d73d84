import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { type FastifyInstance } from 'fastify';
import { registerOverloadShedding } from './overload-shedding.js';

/** Keeps the event loop busy, as a flood of requests would. */
function blockEventLoop(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // busy on purpose
  }
}

describe('overload shedding', () => {
  let fastify: FastifyInstance;

  before(async () => {
    fastify = Fastify();
    await registerOverloadShedding(fastify, {
      maxEventLoopDelayMs: 25,
      sampleIntervalMs: 500,
      retryAfterS: 3,
    });
    fastify.get('/query', () => ({ answered: true }));
    fastify.get('/health/live', () => ({ status: 'ok' }));
    await fastify.ready();
  });
  after(() => fastify.close());

  it('answers requests normally while the event loop keeps up', async () => {
    await sleep(300);
    const response = await fastify.inject({ method: 'GET', url: '/query' });
    assert.equal(response.statusCode, 200);
  });

  it('sheds with 503, Retry-After and the JSON error shape when the event loop lags, but not liveness', async () => {
    blockEventLoop(2_000);
    // Let the sampler's overdue timer record the lag.
    await sleep(20);
    const shed = await fastify.inject({ method: 'GET', url: '/query' });
    const live = await fastify.inject({ method: 'GET', url: '/health/live' });
    assert.equal(shed.statusCode, 503);
    assert.equal(shed.headers['retry-after'], '3');
    assert.deepEqual(shed.json(), {
      statusCode: 503,
      error: 'Service Unavailable',
      message: 'the gateway is overloaded; retry after 3 s',
    });
    assert.equal(live.statusCode, 200);
  });
});
