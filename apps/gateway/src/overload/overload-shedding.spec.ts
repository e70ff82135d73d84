import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { type FastifyInstance } from 'fastify';
import { registerOverloadShedding, type OverloadThresholds } from './overload-shedding.js';

const THRESHOLDS: OverloadThresholds = { maxEventLoopDelayMs: 25, sampleIntervalMs: 500, retryAfterS: 3 };

/** Keeps the event loop busy, as a flood of requests would. */
function blockEventLoop(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // busy on purpose
  }
}

async function listeningApp(beforeListen: () => void = () => {}): Promise<FastifyInstance> {
  const fastify = Fastify();
  await registerOverloadShedding(fastify, THRESHOLDS);
  fastify.get('/query', () => ({ answered: true }));
  fastify.get('/health/live', () => ({ status: 'ok' }));
  beforeListen();
  await fastify.listen({ port: 0, host: '127.0.0.1' });
  return fastify;
}

describe('overload shedding', () => {
  let fastify: FastifyInstance;

  before(async () => {
    fastify = await listeningApp();
  });
  after(() => fastify.close());

  it('answers requests normally while the event loop keeps up', async () => {
    await sleep(300);
    const response = await fastify.inject({ method: 'GET', url: '/query' });
    assert.equal(response.statusCode, 200);
  });

  it('sheds with 503, Retry-After and the JSON error shape when the event loop lags, but not liveness', async () => {
    // Past the start-up grace of two samples (timers never fire early).
    await sleep(2 * THRESHOLDS.sampleIntervalMs + 100);
    blockEventLoop(2_000);
    // The lag reaches the sampler at its next sample at the latest: after the block, its own
    // overdue timer and the delay histogram's may fire in either order (a busy machine showed both).
    let shed = await fastify.inject({ method: 'GET', url: '/query' });
    for (let tries = 0; shed.statusCode !== 503 && tries < (3 * THRESHOLDS.sampleIntervalMs) / 20; tries++) {
      await sleep(20);
      shed = await fastify.inject({ method: 'GET', url: '/query' });
    }
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

  it('does not shed right after listening because start-up blocked the event loop', async () => {
    const booted = await listeningApp(() => blockEventLoop(1_500));
    try {
      await sleep(20);
      const response = await booted.inject({ method: 'GET', url: '/query' });
      assert.equal(response.statusCode, 200);
    } finally {
      await booted.close();
    }
  });
});
