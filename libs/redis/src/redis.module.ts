import {
  Global,
  Inject,
  Injectable,
  Logger,
  Module,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { Redis, type Command } from 'ioredis';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { redisOptionsFromUrl } from './redis-options.js';

/**
 * The process's shared command connection (cache, rate limits, corpus version), with every key
 * under REDIS_KEY_PREFIX so deployments and test runs sharing a server never collide.
 * Auto-pipelining batches the commands of concurrent requests into one round trip.
 */
@Injectable()
export class RedisClient extends Redis implements OnModuleInit, OnApplicationShutdown {
  readonly prefix: string;
  private readonly logger = new Logger(RedisClient.name);
  /** Whether the last connection attempt failed: one warning per outage, not one per retry. */
  private failing = false;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    super({
      ...redisOptionsFromUrl(config.REDIS_URL),
      keyPrefix: `${config.REDIS_KEY_PREFIX}:`,
      enableAutoPipelining: true,
      // Fail fast when Redis is down instead of queueing requests in memory without bound.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      // A Redis that hangs (stopped, partitioned) keeps the connection open and never answers:
      // without a deadline every request waited on the rate limiter's command.
      commandTimeout: config.REDIS_COMMAND_TIMEOUT_MS,
      lazyConnect: false,
    });
    this.prefix = config.REDIS_KEY_PREFIX;
    // Without a listener ioredis prints "Unhandled error event" on every reconnection attempt.
    // The callers see their commands fail; this only says when the connection is lost and back.
    this.on('error', (error: Error) => {
      if (!this.failing) this.logger.warn(`Redis connection failed (retrying): ${error.message}`);
      this.failing = true;
    });
    this.on('ready', () => {
      if (this.failing) this.logger.log('Redis connection is back');
      this.failing = false;
    });
  }

  /**
   * A command that timed out means Redis hangs with the connection open. Drop the connection
   * (ioredis reconnects by itself): until Redis answers again the client is not ready, so every
   * command fails at once and the rate limiters use their in-memory fallback, instead of each
   * request waiting REDIS_COMMAND_TIMEOUT_MS for every command on its path.
   */
  override sendCommand(command: Command, stream?: Parameters<Redis['sendCommand']>[1]): unknown {
    const result = super.sendCommand(command, stream);
    command.promise.catch((error: Error) => {
      if (error.message === 'Command timed out' && this.status === 'ready') {
        this.logger.warn('Redis did not answer within REDIS_COMMAND_TIMEOUT_MS: reconnecting');
        this.disconnect(true);
      }
    });
    return result;
  }

  /** Without the offline queue, commands sent before the connection is ready would fail. */
  async onModuleInit(): Promise<void> {
    if (this.status === 'ready') return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('Redis did not become ready within 10 s')), 10_000);
      this.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.quit().catch(() => this.disconnect());
  }
}

@Global()
@Module({ providers: [RedisClient], exports: [RedisClient] })
export class RedisModule {}
