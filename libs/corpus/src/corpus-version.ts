import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { RedisKey } from '#libs/contracts';
import { RedisClient } from '#libs/redis';

/**
 * Starts a lost version (Redis keeps nothing on disk) at the current time in ms, far above any
 * counter reached before, so a restarted Redis can never hand out a version some cache already used.
 */
const BUMP_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SET', KEYS[1], ARGV[1]) end
return redis.call('INCR', KEYS[1])`;

/** How often a process re-reads the version, in case it missed a `corpus.changed` message. */
const REFRESH_INTERVAL_MS = 1_000;

/**
 * The corpus version keys every cached answer. Writers bump it on each index or delete;
 * gateways keep the highest value seen in memory, so a cache lookup costs no extra round trip.
 */
@Injectable()
export class CorpusVersion implements OnModuleDestroy {
  private readonly logger = new Logger(CorpusVersion.name);
  private version = 0;
  private refreshTimer: NodeJS.Timeout | undefined;

  constructor(private readonly redis: RedisClient) {}

  /** The deployment's key prefix, which tags its events. */
  get namespace(): string {
    return this.redis.prefix;
  }

  get current(): number {
    return this.version;
  }

  /** Keeps the highest version seen: events from several writers may arrive out of order. */
  observe(version: number): void {
    if (version > this.version) this.version = version;
  }

  async refresh(): Promise<number> {
    const stored = await this.redis.get(RedisKey.CorpusVersion);
    this.observe(stored === null ? 0 : Number(stored));
    return this.version;
  }

  /** Called after a change is committed to Postgres; returns the new version. */
  async bump(): Promise<number> {
    const version = Number(await this.redis.eval(BUMP_SCRIPT, 1, RedisKey.CorpusVersion, Date.now()));
    this.observe(version);
    return version;
  }

  /** Readers (gateways) poll as a safety net under the pub/sub events. */
  startRefreshing(): void {
    this.refreshTimer ??= setInterval(() => {
      this.refresh().catch((error: Error) =>
        this.logger.warn(`corpus version refresh failed: ${error.message}`),
      );
    }, REFRESH_INTERVAL_MS).unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.refreshTimer);
  }
}
