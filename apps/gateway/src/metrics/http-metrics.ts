import type { Server } from 'node:http';
import type { FastifyInstance } from 'fastify';
import type { Counter, Histogram } from 'prom-client';
import type { GatewayMetrics } from './gateway-metrics.js';

type HttpLabel = 'method' | 'route' | 'status';

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
  // prom-client validates and hashes a label object on every call; the children bound to each
  // combination are looked up by one string instead. Route templates, statuses and tenant labels
  // are all bounded (unmatched paths share one label), so the map is too.
  const series = new Map<string, { requests: Counter.Internal; duration: Histogram.Internal<HttpLabel> }>();
  fastify.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? UNMATCHED_ROUTE;
    const tenant = tenantLabel(request.apiKey?.tenant);
    const id = `${request.method} ${route} ${reply.statusCode} ${tenant}`;
    let bound = series.get(id);
    if (bound === undefined) {
      const labels = { method: request.method, route, status: reply.statusCode };
      bound = {
        requests: metrics.httpRequests.labels({ ...labels, tenant }),
        duration: metrics.httpDuration.labels(labels),
      };
      series.set(id, bound);
    }
    bound.requests.inc();
    bound.duration.observe(reply.elapsedTime / 1000);
    done();
  });
  server.on('connection', (socket) => {
    metrics.activeConnections.inc();
    socket.once('close', () => metrics.activeConnections.dec());
  });
}
