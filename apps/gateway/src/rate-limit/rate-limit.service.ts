import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { RedisKey, type TenantId } from '#libs/contracts';
import { RedisClient } from '#libs/redis';
import { WindowLeases, type WindowDecision } from './window-leases.js';

const WINDOW_SECONDS = 60;
const WINDOW_MS = WINDOW_SECONDS * 1000;

export interface RateLimitDecision {
  allowed: boolean;
  /** Requests allowed per window. */
  limit: number;
  remaining: number;
  /** Seconds until the window resets (at least 1). */
  resetSeconds: number;
}

/**
 * Fixed one-minute windows counted in Redis, so every gateway process shares one budget per
 * subject; the counter lives at `<prefix>:rl:<subject>` (the shared client adds REDIS_KEY_PREFIX).
 *
 * Keys and tenants, counted on every authenticated request, spend leases of their budget held in
 * memory (window-leases.ts): no Redis round trip per request, and still never more than the limit
 * across processes. Failed authentications are counted in Redis one by one (rate-limiter-flexible):
 * they are rare, and guessing must meet its limit exactly.
 *
 * When Redis is down (the shared client fails fast: no offline queue) each budget falls back
 * to an in-memory one: requests keep being served and limited, though per process, so a
 * client may get up to N times its budget across N gateway processes until Redis is back.
 */
@Injectable()
export class RateLimitService implements OnModuleDestroy {
  private readonly addressLimiter: RateLimiterRedis;
  /** Per distinct limit (RLF fixes the points per limiter, and keys carry their own limit). */
  private readonly insurance = new Map<number, RateLimiterMemory>();
  private readonly leases: WindowLeases;
  private readonly pruneTimer: NodeJS.Timeout;

  constructor(
    redis: RedisClient,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    // An RLF limiter defines its Lua command on the shared client. Defined while requests are
    // in flight, an auto-pipeline created before it lacks the command and its callbacks crash the
    // process ("results[i] is not iterable", ioredis#1931): define it once, before any traffic.
    // (The leases use EVAL, a built-in command.)
    const points = config.ANONYMOUS_RATE_LIMIT_PER_MINUTE;
    this.addressLimiter = new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: RedisKey.RateLimit,
      points,
      duration: WINDOW_SECONDS,
      // Go straight to the insurance limiter while disconnected instead of waiting for an error.
      rejectIfRedisNotReady: true,
      insuranceLimiter: new RateLimiterMemory({
        keyPrefix: RedisKey.RateLimit,
        points,
        duration: WINDOW_SECONDS,
      }),
    });
    this.leases = new WindowLeases(redis, RedisKey.RateLimit, WINDOW_MS);
    this.pruneTimer = setInterval(() => this.leases.prune(), WINDOW_MS).unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.pruneTimer);
  }

  /** Budget for an authenticated key; `null` means DEFAULT_RATE_LIMIT_PER_MINUTE. */
  consumeForKey(keyId: string, rateLimit: number | null): Promise<RateLimitDecision> {
    return this.spendLease(`key:${keyId}`, rateLimit ?? this.config.DEFAULT_RATE_LIMIT_PER_MINUTE);
  }

  /** Budget shared by all of a tenant's keys, so that many keys cannot starve other tenants. */
  consumeForTenant(tenant: TenantId, rateLimit: number): Promise<RateLimitDecision> {
    return this.spendLease(`tenant:${tenant}`, rateLimit);
  }

  /** Budget for requests that fail authentication, per client address: slows down key guessing. */
  consumeForAddress(address: string): Promise<RateLimitDecision> {
    return this.settle(
      this.addressLimiter.consume(`ip:${address}`),
      this.config.ANONYMOUS_RATE_LIMIT_PER_MINUTE,
    );
  }

  /**
   * The address's budget as it stands, spending none of it; `allowed` is false once it is used up.
   * A password check asks this first, so that past the limit a right guess is answered exactly
   * like a wrong one and guessing gains nothing.
   */
  async peekForAddress(address: string): Promise<RateLimitDecision> {
    const limit = this.config.ANONYMOUS_RATE_LIMIT_PER_MINUTE;
    const result = await this.addressLimiter.get(`ip:${address}`);
    if (result === null) return { allowed: true, limit, remaining: limit, resetSeconds: WINDOW_SECONDS };
    return decision(result.consumedPoints < limit, limit, result);
  }

  private async spendLease(subject: string, limit: number): Promise<RateLimitDecision> {
    let spent: WindowDecision;
    try {
      spent = await this.leases.consume(subject, limit);
    } catch {
      return this.consumeInsurance(subject, limit);
    }
    return {
      allowed: spent.allowed,
      limit,
      remaining: spent.remaining,
      resetSeconds: Math.max(1, Math.ceil(spent.msLeft / 1000)),
    };
  }

  /** This process's own budget while Redis cannot be reached. */
  private async consumeInsurance(subject: string, limit: number): Promise<RateLimitDecision> {
    let limiter = this.insurance.get(limit);
    if (limiter === undefined) {
      limiter = new RateLimiterMemory({
        keyPrefix: RedisKey.RateLimit,
        points: limit,
        duration: WINDOW_SECONDS,
      });
      this.insurance.set(limit, limiter);
    }
    return this.settle(limiter.consume(subject), limit);
  }

  private async settle(consumed: Promise<RateLimiterRes>, limit: number): Promise<RateLimitDecision> {
    try {
      return decision(true, limit, await consumed);
    } catch (rejection: unknown) {
      // RLF rejects with a RateLimiterRes when over the limit; anything else is a store failure
      // that the insurance limiter already absorbed, so it is rethrown as a real error.
      if (rejection instanceof RateLimiterRes) return decision(false, limit, rejection);
      throw rejection;
    }
  }
}

function decision(allowed: boolean, limit: number, result: RateLimiterRes): RateLimitDecision {
  return {
    allowed,
    limit,
    remaining: result.remainingPoints,
    resetSeconds: Math.max(1, Math.ceil(result.msBeforeNext / 1000)),
  };
}
