import { parseArgs } from 'node:util';
import Fastify from 'fastify';

/**
 * The baseline: a bare Fastify server (no Nest, no auth, no cache, no database) answering the
 * benchmark's routes with fixed bodies of about the real size. Run in its own process by the
 * benchmarks, so its CPU is measured apart from the load generator's.
 */
const { values } = parseArgs({
  options: { port: { type: 'string', default: '0' }, host: { type: 'string', default: '127.0.0.1' } },
});

const health = {
  status: 'healthy',
  checks: {
    database: { ok: true, latency_ms: 0.4 },
    redis: { ok: true, latency_ms: 0.2 },
    memory: { ok: true, rss_mb: 120 },
    queues: { ok: true, waiting: 0 },
  },
};
const documents = {
  items: Array.from({ length: 20 }, (_, index) => ({
    id: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
    title: `Document ${index}`,
    collection: 'default',
    status: 'indexed',
    chunk_count: 12,
    size_bytes: 48_213,
    created_at: '2026-01-01T00:00:00.000Z',
    indexed_at: '2026-01-01T00:00:02.000Z',
  })),
  next_cursor: null,
};
const sources = Array.from({ length: 5 }, (_, index) => ({
  document_id: `00000000-0000-4000-8000-${String(index).padStart(12, '0')}`,
  chunk_id: String(index + 1),
  title: `Document ${index}`,
  snippet: 'To reset your password, open Settings, choose Security and follow the link we e-mail you.',
  score: 0.9 - index / 10,
}));

const app = Fastify({ logger: false, keepAliveTimeout: 65_000 });
app.get('/health/live', () => ({ status: 'ok' }));
app.get('/health', () => ({ ...health, timestamp: Math.floor(Date.now() / 1000) }));
app.get('/documents', () => documents);
app.post<{ Body: { query?: unknown } }>('/query', (request, reply) => {
  void reply.header('x-cache', 'HIT');
  return {
    query: typeof request.body?.query === 'string' ? request.body.query : '',
    answer: 'Open Settings, choose Security and follow the link we e-mail you.',
    sources,
    cached: true,
    took_ms: 0.1,
  };
});

const shutdown = (): void => {
  void app.close().then(() => process.exit(0));
};
process.once('SIGTERM', shutdown);
process.once('SIGINT', shutdown);
process.once('disconnect', shutdown);

await app.listen({ port: Number(values.port), host: values.host, backlog: 4096 });
const address = app.server.address();
if (address !== null && typeof address !== 'string') process.send?.({ port: address.port });
