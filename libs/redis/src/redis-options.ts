import type { RedisOptions } from 'ioredis';

/** ioredis options from a redis:// or rediss:// URL (BullMQ takes options, not URLs). */
export function redisOptionsFromUrl(redisUrl: string): RedisOptions {
  const url = new URL(redisUrl);
  const db = url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0;
  return {
    host: url.hostname,
    port: url.port === '' ? 6379 : Number(url.port),
    username: url.username === '' ? undefined : decodeURIComponent(url.username),
    password: url.password === '' ? undefined : decodeURIComponent(url.password),
    db: Number.isInteger(db) ? db : 0,
    tls: url.protocol === 'rediss:' ? {} : undefined,
  };
}

/**
 * For Nest's Redis transport (the `corpus.changed` events). Without `retryAttempts` it gives up
 * after the first lost connection ("No further reconnection attempts will be made"): a gateway
 * would never hear an event again after a Redis restart, and a worker's publisher would stay
 * down. Retry every second for as long as the process lives.
 */
export function redisTransportOptions(redisUrl: string): RedisOptions & {
  retryAttempts: number;
  retryDelay: number;
} {
  return { ...redisOptionsFromUrl(redisUrl), retryAttempts: Number.MAX_SAFE_INTEGER, retryDelay: 1_000 };
}
