import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ErrorBody } from '../http/http-error.filter.js';
import { isExemptFromShedding } from './overload-shedding.js';

const RETRY_AFTER_S = 1;
const counted = new WeakSet<FastifyRequest>();

/**
 * OVERLOAD_MAX_IN_FLIGHT: a process answering more requests at once than this sheds the next
 * ones with 503 + Retry-After before doing any work for them (no auth, no Redis). Event-loop
 * delay (overload-shedding.ts) sees overload only after a sample; under a flood of thousands of
 * connections, every request admitted meanwhile waits behind all the others, so the p95 of the
 * accepted grows with the number of clients. A bound on requests in flight bounds that wait.
 */
export function registerInFlightLimit(fastify: FastifyInstance, maxInFlight: number): void {
  const body: ErrorBody = {
    statusCode: 503,
    error: 'Service Unavailable',
    message: `the gateway is overloaded (more than ${maxInFlight} requests in flight); retry after ${RETRY_AFTER_S} s`,
  };
  let inFlight = 0;
  const release = (request: FastifyRequest): void => {
    if (counted.delete(request)) inFlight--;
  };
  fastify.addHook('onRequest', async (request, reply) => {
    if (isExemptFromShedding(request)) return;
    if (inFlight >= maxInFlight) {
      await reply.status(503).header('retry-after', String(RETRY_AFTER_S)).send(body);
      return reply;
    }
    inFlight++;
    counted.add(request);
  });
  fastify.addHook('onResponse', (request, _reply, done) => {
    release(request);
    done();
  });
  fastify.addHook('onRequestAbort', (request, done) => {
    release(request);
    done();
  });
}
