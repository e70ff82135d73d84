import type { Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { GatewayMetrics } from './gateway-metrics.js';

/** Label for requests no route matched: raw paths would give every scanner probe its own series. */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * Counts every answer at the Fastify level, so the ones sent before any Nest handler runs
 * (401, 429, 404, load shedding) are counted too, labelled by route template (and the request
 * counter by the key's tenant once a key was accepted).
 */
export function installHttpMetrics(
  fastify: FastifyInstance,
  server: Server,
  metrics: GatewayMetrics,
  tenantLabel: (tenant: string | undefined) => string,
): void {
  fastify.addHook('onResponse', (request, reply, done) => {
    const labels = {
      method: request.method,
      route: request.routeOptions.url ?? UNMATCHED_ROUTE,
      status: reply.statusCode,
    };
    metrics.httpRequests.inc({ ...labels, tenant: tenantLabel(request.apiKey?.tenant) });
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
    done();
  });
  server.on('connection', (socket) => {
    metrics.activeConnections.inc();
    socket.once('close', () => metrics.activeConnections.dec());
  });
}
