import { Inject, Injectable } from '@nestjs/common';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { RedisKey, type TenantId } from '#libs/contracts';
import { RedisClient } from '#libs/redis';

const WINDOW_SECONDS = 60;

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
 * subject. RLF's key is `rl:<subject>` and the shared client adds REDIS_KEY_PREFIX, so the
 * counter lives at `<prefix>:rl:<subject>`.
 *
 * When Redis is down (the shared client fails fast: no offline queue) each limiter falls back
 * to an in-memory one: requests keep being served and limited, though per process, so a
 * client may get up to N times its budget across N gateway processes until Redis is back.
 */
@Injectable()
export class RateLimitService {
  /** One limiter per distinct limit: RLF fixes the points per limiter, and keys carry their own limit. */
  private readonly limiters = new Map<number, RateLimiterRedis>();

  constructor(
    private readonly redis: RedisClient,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {
    // Each RLF limiter defines its Lua command on the shared client. Defined while requests are
    // in flight, an auto-pipeline created before it lacks the command and its callbacks crash the
    // process ("results[i] is not iterable", ioredis#1931): define it once, before any traffic.
    this.limiter(config.DEFAULT_RATE_LIMIT_PER_MINUTE);
  }

  /** Budget for an authenticated key; `null` means DEFAULT_RATE_LIMIT_PER_MINUTE. */
  consumeForKey(keyId: string, rateLimit: number | null): Promise<RateLimitDecision> {
    return this.consume(`key:${keyId}`, rateLimit ?? this.config.DEFAULT_RATE_LIMIT_PER_MINUTE);
  }

  /** Budget shared by all of a tenant's keys, so that many keys cannot starve other tenants. */
  consumeForTenant(tenant: TenantId, rateLimit: number): Promise<RateLimitDecision> {
    return this.consume(`tenant:${tenant}`, rateLimit);
  }

  /** Budget for requests that fail authentication, per client address: slows down key guessing. */
  consumeForAddress(address: string): Promise<RateLimitDecision> {
    return this.consume(`ip:${address}`, this.config.ANONYMOUS_RATE_LIMIT_PER_MINUTE);
  }

  /**
   * The address's budget as it stands, spending none of it; `allowed` is false once it is used up.
   * A password check asks this first, so that past the limit a right guess is answered exactly
   * like a wrong one and guessing gains nothing.
   */
  async peekForAddress(address: string): Promise<RateLimitDecision> {
    const limit = this.config.ANONYMOUS_RATE_LIMIT_PER_MINUTE;
    const result = await this.limiter(limit).get(`ip:${address}`);
    if (result === null) return { allowed: true, limit, remaining: limit, resetSeconds: WINDOW_SECONDS };
    return decision(result.consumedPoints < limit, limit, result);
  }

  private async consume(subject: string, limit: number): Promise<RateLimitDecision> {
    try {
      const result = await this.limiter(limit).consume(subject);
      return decision(true, limit, result);
    } catch (rejection: unknown) {
      // RLF rejects with a RateLimiterRes when over the limit; anything else is a store failure
      // that the insurance limiter already absorbed, so it is rethrown as a real error.
      if (rejection instanceof RateLimiterRes) return decision(false, limit, rejection);
      throw rejection;
    }
  }

  private limiter(points: number): RateLimiterRedis {
    let limiter = this.limiters.get(points);
    if (limiter === undefined) {
      limiter = new RateLimiterRedis({
        storeClient: this.redis,
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
      this.limiters.set(points, limiter);
    }
    return limiter;
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
