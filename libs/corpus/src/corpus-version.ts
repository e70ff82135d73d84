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

/** Keeps the highest position recorded: writers may finish out of order. */
const RECORD_LSN_SCRIPT = `
local stored = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > stored then redis.call('SET', KEYS[1], ARGV[1]) end
return 1`;

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

  /**
   * Called after a change is committed to Postgres, with the primary's WAL position read after
   * that commit; returns the new version. The position is stored before the version moves, so
   * whoever has seen a version finds a recorded position at or past all of its changes (ADR 0014).
   */
  async bump(walLsn: number): Promise<number> {
    await this.redis.eval(RECORD_LSN_SCRIPT, 1, RedisKey.CorpusWalLsn, walLsn);
    const version = Number(await this.redis.eval(BUMP_SCRIPT, 1, RedisKey.CorpusVersion, Date.now()));
    this.observe(version);
    return version;
  }

  /**
   * The WAL position a read replica must have replayed to serve any version published so far,
   * or null when none was recorded (Redis lost it): then only the primary is safe to read.
   */
  async recordedWalLsn(): Promise<number | null> {
    const stored = await this.redis.get(RedisKey.CorpusWalLsn);
    return stored === null ? null : Number(stored);
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
