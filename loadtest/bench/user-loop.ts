import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'undici';
import { Tally } from './stats.js';
import type { RequestSpec } from './workload.js';

export interface UserLoopOptions {
  target: URL;
  users: number;
  /** Users stop starting iterations after this long. */
  durationMs: number;
  /** User i starts at i / users * spreadMs, so they do not all connect in the same instant. */
  spreadMs: number;
  /** Pause after each iteration (k6's sleep(1)). */
  pauseMs: number;
  requests: readonly RequestSpec[];
  token: (user: number) => string;
  requestTimeoutMs: number;
  /** Called with every answer (status 0: no answer) as it arrives, for timelines. */
  onAnswer?: (answer: { request: string; status: number; latencyMs: number; retryAfter: boolean }) => void;
}

export interface UserLoopResult {
  wallSeconds: number;
  iterations: number;
  byRequest: Map<string, Tally>;
  /** X-Cache headers seen on the answers. */
  cache: { hits: number; misses: number };
}

/**
 * A closed-model load like k6's virtual users: each user, on its own keep-alive connection,
 * sends its requests one after another, then pauses; throughput is set by the users and the
 * pause, not by how fast the server can go. Bounded: it stops by itself after durationMs, and
 * a hard deadline aborts anything still in flight after that.
 */
export async function runUserLoop(options: UserLoopOptions): Promise<UserLoopResult> {
  const pool = new Pool(options.target.origin, {
    connections: options.users,
    pipelining: 1,
    keepAliveTimeout: 60_000,
    headersTimeout: options.requestTimeoutMs,
    bodyTimeout: options.requestTimeoutMs,
    connect: { timeout: 10_000 },
  });
  const byRequest = new Map(options.requests.map((spec) => [spec.name, new Tally()]));
  const cache = { hits: 0, misses: 0 };
  let iterations = 0;

  const startedAt = performance.now();
  const endAt = startedAt + options.durationMs;
  const hardStop = new AbortController();
  // Every user's request and pause listens on this one signal.
  setMaxListeners(options.users * 2 + 10, hardStop.signal);
  const hardStopTimer = setTimeout(
    () => hardStop.abort(),
    options.durationMs + options.requestTimeoutMs + 5_000,
  );

  const send = async (spec: RequestSpec, user: number, iteration: number): Promise<void> => {
    const tally = byRequest.get(spec.name) ?? new Tally();
    const headers: Record<string, string> = { authorization: `Bearer ${options.token(user)}` };
    const body = spec.body?.(user, iteration);
    if (body !== undefined) headers['content-type'] = 'application/json';
    const sentAt = performance.now();
    try {
      const response = await pool.request({
        origin: options.target.origin,
        path: spec.path,
        method: spec.method,
        headers,
        body,
        signal: hardStop.signal,
      });
      await response.body.dump({ limit: 1 << 20 });
      const latencyMs = performance.now() - sentAt;
      tally.record(response.statusCode, latencyMs);
      options.onAnswer?.({
        request: spec.name,
        status: response.statusCode,
        latencyMs,
        retryAfter: response.headers['retry-after'] !== undefined,
      });
      const cacheHeader = response.headers['x-cache'];
      if (cacheHeader === 'HIT') cache.hits += 1;
      else if (cacheHeader === 'MISS') cache.misses += 1;
    } catch {
      const latencyMs = performance.now() - sentAt;
      tally.recordError(latencyMs);
      options.onAnswer?.({ request: spec.name, status: 0, latencyMs, retryAfter: false });
    }
  };

  const user = async (index: number): Promise<void> => {
    await sleep((index / options.users) * options.spreadMs);
    for (let iteration = 0; performance.now() < endAt && !hardStop.signal.aborted; iteration += 1) {
      for (const spec of options.requests) await send(spec, index, iteration);
      iterations += 1;
      if (performance.now() + options.pauseMs >= endAt) break;
      await sleep(options.pauseMs, undefined, { signal: hardStop.signal }).catch(() => undefined);
    }
  };

  try {
    await Promise.all(Array.from({ length: options.users }, (_, index) => user(index)));
  } finally {
    clearTimeout(hardStopTimer);
    await pool.destroy();
  }
  return { wallSeconds: (performance.now() - startedAt) / 1000, iterations, byRequest, cache };
}
