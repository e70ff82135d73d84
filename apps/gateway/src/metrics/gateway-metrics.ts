import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { MetricName } from '#libs/observability';

/** Seconds; spans a cache hit (sub-millisecond) to a slow miss near QUERY_TIMEOUT_MS. */
const HTTP_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * One gateway process's own series, in a registry of its own rather than prom-client's global
 * one: tests run several apps in one process, and the cluster primary builds its registry apart.
 */
export class GatewayMetrics {
  readonly registry = new Registry();

  /** The only gateway series with a `tenant` label: a counter, so a tenant adds one child per route and status, not a histogram's buckets. */
  readonly httpRequests = new Counter({
    name: MetricName.HttpRequestsTotal,
    help: 'HTTP requests answered, by method, route template, status code and tenant (METRICS_TENANTS)',
    labelNames: ['method', 'route', 'status', 'tenant'] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: MetricName.HttpRequestDuration,
    help: 'Time from receiving a request to sending the answer, in seconds',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: HTTP_DURATION_BUCKETS,
    registers: [this.registry],
  });

  /** Summed over the cluster's processes, which is the number the load balancer sees. */
  readonly activeConnections = new Gauge({
    name: MetricName.ActiveConnections,
    help: 'Open client connections',
    registers: [this.registry],
  });

  readonly queryCacheHits = new Counter({
    name: MetricName.QueryCacheHits,
    help: 'Queries answered from the in-process or Redis cache',
    registers: [this.registry],
  });

  readonly queryCacheMisses = new Counter({
    name: MetricName.QueryCacheMisses,
    help: 'Queries that had to wait for a query worker',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}
