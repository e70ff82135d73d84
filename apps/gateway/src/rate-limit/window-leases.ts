import type { Redis } from 'ioredis';

/** The most points one reservation takes: at most one Redis call per this many requests of a subject. */
export const MAX_LEASE = 100;
/**
 * A reservation takes at most this fraction (1/n) of what is left of the window's budget, so
 * that points held unspent by one process are a small share of the rest: near the limit leases
 * shrink to one point and every request is counted in Redis, exactly as without leases.
 */
export const LEASE_DIVISOR = 16;

/**
 * Atomically reserves up to a lease of points in the window's counter, never past the limit.
 * The counter is the one rate-limiter-flexible keeps (points counted, expiring with the fixed
 * window), so processes of either kind share one budget during a rolling upgrade.
 * KEYS[1] counter; ARGV: limit, MAX_LEASE, LEASE_DIVISOR, window ms. Returns {granted, counted, ms left}.
 */
const RESERVE = `
local limit = tonumber(ARGV[1])
local counted = tonumber(redis.call('GET', KEYS[1]) or '0')
local wanted = math.floor((limit - counted) / tonumber(ARGV[3]))
if wanted > tonumber(ARGV[2]) then wanted = tonumber(ARGV[2]) end
if wanted < 1 then wanted = 1 end
local granted = math.min(wanted, limit - counted)
if granted > 0 then
  counted = redis.call('INCRBY', KEYS[1], granted)
else
  granted = 0
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[4])
  ttl = tonumber(ARGV[4])
end
return {granted, counted, ttl}
`;

export interface WindowDecision {
  allowed: boolean;
  remaining: number;
  /** Milliseconds until the window resets. */
  msLeft: number;
}

interface Lease {
  limit: number;
  /** Points this process reserved in Redis and has not spent yet. */
  left: number;
  /** The counter in Redis after this process's last reservation: points spent or held by every process. */
  counted: number;
  /** When the window ends, on performance.now()'s clock. */
  endsAt: number;
}

/**
 * Fixed-window budgets shared by every gateway process through one Redis counter per subject,
 * without a Redis round trip per request: a process reserves a lease of points (one atomic
 * script) and spends it in memory. Reservations never take the counter past the limit, so
 * across any number of processes a subject is never admitted more than its limit per window;
 * the price is that points leased to one process and not spent there cannot serve the subject
 * in another before the window ends (at most 1/LEASE_DIVISOR of what was left, per process).
 * Once the counter is full, refusals are answered from memory until the window ends.
 */
export class WindowLeases {
  private readonly leases = new Map<string, Lease>();
  /** One reservation in flight per subject; concurrent requests share it. */
  private readonly reserving = new Map<string, Promise<void>>();

  constructor(
    private readonly redis: Redis,
    private readonly keyPrefix: string,
    private readonly windowMs: number,
  ) {}

  /** Spends one point of `subject`'s budget; rejects when Redis fails (the caller falls back). */
  async consume(subject: string, limit: number): Promise<WindowDecision> {
    for (;;) {
      const lease = this.leases.get(subject);
      const now = performance.now();
      if (lease !== undefined && lease.limit === limit && lease.endsAt > now) {
        if (lease.left > 0) {
          lease.left -= 1;
          return { allowed: true, remaining: limit - lease.counted + lease.left, msLeft: lease.endsAt - now };
        }
        if (lease.counted >= limit) return { allowed: false, remaining: 0, msLeft: lease.endsAt - now };
      }
      let reservation = this.reserving.get(subject);
      if (reservation === undefined) {
        reservation = this.reserve(subject, limit).finally(() => this.reserving.delete(subject));
        this.reserving.set(subject, reservation);
      }
      await reservation;
    }
  }

  /** Forgets the leases of ended windows (their points expired in Redis with the window). */
  prune(): void {
    const now = performance.now();
    for (const [subject, lease] of this.leases) if (lease.endsAt <= now) this.leases.delete(subject);
  }

  private async reserve(subject: string, limit: number): Promise<void> {
    // As rate-limiter-flexible's rejectIfRedisNotReady: fail at once while disconnected.
    if (this.redis.status !== 'ready') throw new Error('Redis is not connected');
    // The window's end is reckoned from before the call, so that it never outlives the counter.
    const sentAt = performance.now();
    const [granted, counted, msLeft] = (await this.redis.eval(
      RESERVE,
      1,
      `${this.keyPrefix}:${subject}`,
      limit,
      MAX_LEASE,
      LEASE_DIVISOR,
      this.windowMs,
    )) as [number, number, number];
    this.leases.set(subject, { limit, left: granted, counted, endsAt: sentAt + msLeft });
  }
}
