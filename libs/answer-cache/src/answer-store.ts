import { Inject, Injectable } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { RedisKey } from '#libs/contracts';
import { RedisClient } from '#libs/redis';
import { storedAnswerJson, type CachedAnswer } from './stored-answer.js';

/**
 * The shared level of the answer cache, as its writers see it: whoever computes an answer (a
 * query worker) stores it under its cache key before its job completes, so a gateway that learns
 * of the completion, or misses later, finds it.
 */
@Injectable()
export class AnswerStore {
  private readonly ttlS: number;

  constructor(
    @Inject(APP_CONFIG) config: AppConfig,
    private readonly redis: RedisClient,
  ) {
    this.ttlS = config.QUERY_CACHE_TTL_S;
  }

  async store(cacheKey: string, value: CachedAnswer): Promise<void> {
    await this.redis.set(RedisKey.QueryCache(cacheKey), storedAnswerJson(value), 'EX', this.ttlS);
  }

  /** How many of these cache keys hold an answer. */
  async countStored(cacheKeys: readonly string[]): Promise<number> {
    if (cacheKeys.length === 0) return 0;
    return this.redis.exists(...cacheKeys.map((key) => RedisKey.QueryCache(key)));
  }
}
