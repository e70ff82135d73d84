import os from 'node:os';
import { z } from 'zod';
import { TENANT_PATTERN } from '#libs/contracts';

const int = (min: number, max: number = Number.MAX_SAFE_INTEGER) => z.coerce.number().int().min(min).max(max);
/** A comma-separated list: blanks around items and empty items are dropped; `.pipe()` checks the items. */
const commaSeparated = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value) =>
      value
        .split(',')
        .map((item) => item.trim())
        .filter((item) => item !== ''),
    );
const optionalSecret = z
  .string()
  .optional()
  .transform((value) => (value === '' ? undefined : value));

/** Every setting of every app, validated once at boot. Names match the README's configuration table. */
export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  PORT: int(0, 65535).default(8000),
  HOST: z.string().min(1).default('0.0.0.0'),
  LISTEN_BACKLOG: int(1).default(4096),
  GATEWAY_WORKERS: int(1, 256).default(os.availableParallelism()),
  TRUST_PROXY: z.stringbool().default(false),

  DATABASE_URL: z.url().default('postgres://postgres@127.0.0.1:5432/rag'),
  DATABASE_POOL_SIZE: int(1, 500).default(10),
  DATABASE_REPLICA_URLS: commaSeparated('').pipe(z.array(z.url())),
  DATABASE_REPLICA_MAX_WAIT_MS: int(0, 60_000).default(100),
  REDIS_URL: z.url().default('redis://127.0.0.1:6379'),
  // May be wrapped in braces ("{rag}"), a Redis Cluster hash tag that keeps every key of a BullMQ
  // queue in one slot, as BullMQ requires on a cluster.
  REDIS_KEY_PREFIX: z
    .string()
    .regex(
      /^(?:[A-Za-z0-9_.-]{1,64}|\{[A-Za-z0-9_.-]{1,62}\})$/,
      'letters, digits, "_", "-" or "." (at most 64), optionally wrapped in {braces}',
    )
    .default('rag'),
  REDIS_COMMAND_TIMEOUT_MS: int(100, 60_000).default(2_000),

  MAX_UPLOAD_BYTES: int(1).default(10 * 1024 * 1024),
  /** Body limit of POST /documents/batch (NDJSON); each document in it is still at most MAX_UPLOAD_BYTES. */
  MAX_BATCH_UPLOAD_BYTES: int(1).default(32 * 1024 * 1024),
  /** Documents (NDJSON lines) one POST /documents/batch may carry. */
  MAX_BATCH_DOCUMENTS: int(1, 10_000).default(1000),
  /** A client must send its complete request headers within this time (slowloris); 408 after. */
  HEADERS_TIMEOUT_MS: int(1_000).default(15_000),
  /** A client must send its complete request, body included, within this time; 408 after. Enough for MAX_UPLOAD_BYTES at ~1 Mbit/s. */
  REQUEST_TIMEOUT_MS: int(1_000).default(120_000),
  OVERLOAD_MAX_EVENT_LOOP_DELAY_MS: int(0).default(200),
  /** Requests one gateway process answers at once; past it, 503 + Retry-After before any work. 0: no limit. */
  OVERLOAD_MAX_IN_FLIGHT: int(0).default(256),
  DEFAULT_RATE_LIMIT_PER_MINUTE: int(1).default(6000),
  ANONYMOUS_RATE_LIMIT_PER_MINUTE: int(1).default(600),

  QUERY_TIMEOUT_MS: int(1).default(10_000),
  QUERY_CACHE_TTL_S: int(1).default(300),
  QUERY_CACHE_L1_ENTRIES: int(0).default(10_000),

  /** Extraction threads per ingest worker process: documents parsed and chunked at once. */
  INGEST_CONCURRENCY: int(1, 64).default(2),
  /**
   * Ingest jobs one worker process holds at once, each with its upload in memory until its chunks
   * are committed (ADR 0030); their Postgres writes are grouped, claims up to this many documents
   * per statement, chunk writes up to half this many per transaction (ADR 0027). 1: one at a time.
   */
  INGEST_BATCH_SIZE: int(1, 1000).default(128),
  INGEST_ATTEMPTS: int(1, 20).default(3),
  INGEST_LOCK_DURATION_MS: int(5_000, 600_000).default(60_000),
  QUERY_CONCURRENCY: int(1, 256).default(16),
  CHUNK_SIZE: int(200, 20_000).default(1200),
  CHUNK_OVERLAP: int(0, 5_000).default(200),
  RECONCILE_INTERVAL_MS: int(1000).default(30_000),
  /** Indexed documents are published (one corpus version bump, then `indexed`) at most this often; 0: at once. */
  INGEST_PUBLISH_INTERVAL_MS: int(0, 10_000).default(500),
  /** Hot questions whose answers a publication computes under its new version before announcing it (ADR 0031); 0: none. */
  CACHE_WARM_QUESTIONS: int(0, 1_000).default(32),
  /** How long a publication waits for those answers before announcing its version anyway. */
  CACHE_WARM_WAIT_MS: int(0, 5_000).default(200),
  /** Waiting ingest jobs (all tenants) past which uploads are refused with 503: Redis does not grow without bound. 0: no limit. */
  INGEST_MAX_WAITING: int(0).default(10_000),
  /** Queued documents one tenant may have at once; past it its uploads get 429, so its bulk load cannot delay other tenants for long. 0: no cap. */
  INGEST_MAX_QUEUED_PER_TENANT: int(0).default(500),
  EXTRACTION_TIMEOUT_MS: int(100).default(60_000),
  EXTRACTION_MEMORY_MB: int(32, 16_384).default(512),

  /** Each worker's own HTTP port (health, metrics); unset: 8001 for the ingest worker, 8002 for the query worker. */
  WORKER_HTTP_PORT: int(0, 65535).optional(),

  METRICS_TOKEN: optionalSecret,
  /**
   * Comma-separated tenants whose requests and jobs get their own `tenant` label value; every
   * other tenant is counted as `other`, which keeps the series count bounded (docs/metrics.md).
   */
  METRICS_TENANTS: commaSeparated('default').pipe(
    z
      .array(
        z
          .string()
          .regex(TENANT_PATTERN, 'each tenant matches the tenant name pattern')
          .refine((tenant) => tenant !== 'other' && tenant !== 'none', {
            message: '"other" and "none" are the label values of unlisted tenants and of no tenant',
          }),
      )
      .max(100, 'at most 100 tenants: each multiplies the labelled series'),
  ),
  /** Comma-separated origins (`https://app.example.com`) allowed cross-origin; empty: CORS off. */
  CORS_ORIGINS: commaSeparated('').pipe(
    z.array(
      z.string().refine((origin) => URL.canParse(origin) && new URL(origin).origin === origin, {
        message: 'each origin is scheme://host[:port], without a path or a trailing slash',
      }),
    ),
  ),
  /** The queue dashboard's login; the dashboard is off unless both are set. */
  ADMIN_USER: optionalSecret,
  ADMIN_PASSWORD: optionalSecret,
});

export type AppConfig = z.infer<typeof configSchema>;
