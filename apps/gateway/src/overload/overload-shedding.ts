import underPressure, { type FastifyUnderPressureOptions } from '@fastify/under-pressure';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorBody } from '../http/http-error.filter.js';

export interface OverloadThresholds {
  /** Mean event-loop delay over one sample above which requests are shed. */
  maxEventLoopDelayMs: number;
  sampleIntervalMs: number;
  retryAfterS: number;
}

/**
 * Event-loop delay measures work queued inside the process, which is what makes every request
 * late. Utilisation is left out on purpose: a saturated loop that keeps up (a benchmark at full
 * speed) sits near 100% while still answering in milliseconds, and shedding it would only turn
 * answers into errors. 200 ms of mean delay is four times the p95 target of 50 ms.
 */
export const DEFAULT_OVERLOAD_THRESHOLDS: OverloadThresholds = {
  maxEventLoopDelayMs: 200,
  sampleIntervalMs: 500,
  retryAfterS: 2,
};

/** Probes and scrapes must see an overloaded process as alive and measurable. */
const EXEMPT_ROUTES: ReadonlySet<string | undefined> = new Set(['/health/live', '/metrics']);
/** Operators watch the queues hardest while the gateway is overloaded; the board is behind a login. */
const EXEMPT_PREFIX = '/admin/queues';

/** Answers 503 with Retry-After at once while the process is overloaded, in the API's error shape. */
export async function registerOverloadShedding(
  fastify: FastifyInstance,
  thresholds: OverloadThresholds = DEFAULT_OVERLOAD_THRESHOLDS,
): Promise<void> {
  const body: ErrorBody = {
    statusCode: 503,
    error: 'Service Unavailable',
    message: `the gateway is overloaded; retry after ${thresholds.retryAfterS} s`,
  };
  // under-pressure sends whatever the handler returns (other than nullish) as the answer, and
  // does not go on with the request; nullish lets the request through. Its typings omit the
  // first case. Sending from the handler instead would race the async onSend hooks.
  const shed = (request: FastifyRequest, reply: FastifyReply): ErrorBody | undefined => {
    // The path, not the route: with the dashboard off its 404 must stay a 404 too.
    if (EXEMPT_ROUTES.has(request.routeOptions.url) || request.url.startsWith(EXEMPT_PREFIX))
      return undefined;
    void reply.status(503).header('retry-after', String(thresholds.retryAfterS));
    return body;
  };
  await fastify.register(underPressure, {
    maxEventLoopDelay: thresholds.maxEventLoopDelayMs,
    sampleInterval: thresholds.sampleIntervalMs,
    retryAfter: thresholds.retryAfterS,
    pressureHandler: shed as FastifyUnderPressureOptions['pressureHandler'],
  });
}
