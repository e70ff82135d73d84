import underPressure, { type FastifyUnderPressureOptions } from '@fastify/under-pressure';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppConfig } from '#libs/config';
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
 * answers into errors. The delay threshold is OVERLOAD_MAX_EVENT_LOOP_DELAY_MS (200 ms by
 * default, four times the p95 target of 50 ms).
 */
const SAMPLE_INTERVAL_MS = 500;
const RETRY_AFTER_S = 2;

export function overloadThresholds(config: AppConfig): OverloadThresholds | undefined {
  if (config.OVERLOAD_MAX_EVENT_LOOP_DELAY_MS === 0) return undefined;
  return {
    maxEventLoopDelayMs: config.OVERLOAD_MAX_EVENT_LOOP_DELAY_MS,
    sampleIntervalMs: SAMPLE_INTERVAL_MS,
    retryAfterS: RETRY_AFTER_S,
  };
}

/** Probes and scrapes must see an overloaded process as alive and measurable. */
const EXEMPT_ROUTES: ReadonlySet<string | undefined> = new Set(['/health/live', '/metrics']);
/** Operators watch the queues hardest while the gateway is overloaded; the board is behind a login. */
const EXEMPT_PREFIX = '/admin/queues';

/** Liveness, scrapes and the dashboard are answered however loaded the process is. */
export function isExemptFromShedding(request: FastifyRequest): boolean {
  // The path, not the route: with the dashboard off its 404 must stay a 404 too.
  return EXEMPT_ROUTES.has(request.routeOptions.url) || request.url.startsWith(EXEMPT_PREFIX);
}

/** Answers 503 with Retry-After at once while the process is overloaded, in the API's error shape. */
export async function registerOverloadShedding(
  fastify: FastifyInstance,
  thresholds: OverloadThresholds,
): Promise<void> {
  const body: ErrorBody = {
    statusCode: 503,
    error: 'Service Unavailable',
    message: `the gateway is overloaded; retry after ${thresholds.retryAfterS} s`,
  };
  // under-pressure sends whatever the handler returns (other than nullish) as the answer, and
  // does not go on with the request; nullish lets the request through. Its typings omit the
  // first case. Sending from the handler instead would race the async onSend hooks.
  // A sample that covers start-up (compiling routes, building the OpenAPI document) measures the
  // boot, not the load: shedding only starts two full samples after the server listens.
  let armed = false;
  fastify.addHook('onListen', (done) => {
    setTimeout(() => (armed = true), 2 * thresholds.sampleIntervalMs).unref();
    done();
  });
  const shed = (request: FastifyRequest, reply: FastifyReply): ErrorBody | undefined => {
    if (!armed || isExemptFromShedding(request)) return undefined;
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
