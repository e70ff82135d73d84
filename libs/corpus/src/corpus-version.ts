import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import { isTenantId, RedisKey, type TenantId } from '#libs/contracts';
import { RedisClient } from '#libs/redis';

/**
 * Hands out the tenant's next version (KEYS[2], reserved) and, when ARGV[3] is '1', publishes it
 * at once (KEYS[1], the versions gateways key their caches with). A publisher that warms answers
 * first reserves, then publishes with PUBLISH_SCRIPT: versions are handed out in order whoever
 * asks, so a version is never used twice, while the published one only moves forward.
 * A lost counter (Redis keeps nothing on disk) starts at the current time in ms, far above any
 * counter reached before, so a restarted Redis can never hand out a version some cache already used.
 */
const RESERVE_SCRIPT = `
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then
  redis.call('HSET', KEYS[2], ARGV[1], redis.call('HGET', KEYS[1], ARGV[1]) or ARGV[2])
end
local version = redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
if ARGV[3] == '1' then redis.call('HSET', KEYS[1], ARGV[1], version) end
return version`;

/** Publishes a reserved version unless a later one already is. */
const PUBLISH_SCRIPT = `
local published = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if published < tonumber(ARGV[2]) then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
return 1`;

/** Keeps the highest position recorded: writers may finish out of order. */
const RECORD_LSN_SCRIPT = `
local stored = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > stored then redis.call('SET', KEYS[1], ARGV[1]) end
return 1`;

/** How often a process re-reads the versions, in case it missed a `corpus.changed` message. */
const REFRESH_INTERVAL_MS = 1_000;

/**
 * Each tenant's corpus version, which keys its cached answers: one tenant's uploads never retire
 * another tenant's cache. Writers bump the tenant's version on each index or delete; gateways keep
 * the highest value seen per tenant in memory, so a cache lookup costs no extra round trip.
 * The versions live in one Redis hash, so the safety-net poll is one HGETALL whatever the tenants.
 */
@Injectable()
export class CorpusVersion implements OnModuleDestroy {
  private readonly logger = new Logger(CorpusVersion.name);
  private readonly versions = new Map<TenantId, number>();
  private refreshTimer: NodeJS.Timeout | undefined;

  constructor(private readonly redis: RedisClient) {}

  /** The deployment's key prefix, which tags its events. */
  get namespace(): string {
    return this.redis.prefix;
  }

  /** The tenant's version as this process last heard it (0 before its first change). */
  current(tenant: TenantId): number {
    return this.versions.get(tenant) ?? 0;
  }

  /** Keeps the highest version seen: events from several writers may arrive out of order. */
  observe(tenant: TenantId, version: number): void {
    if (version > this.current(tenant)) this.versions.set(tenant, version);
  }

  async refresh(): Promise<void> {
    const stored = await this.redis.hgetall(RedisKey.CorpusVersions);
    for (const [tenant, version] of Object.entries(stored)) {
      if (isTenantId(tenant)) this.observe(tenant, Number(version));
    }
  }

  /**
   * Called after a change to the tenant's corpus is committed to Postgres, with the primary's WAL
   * position read after that commit; returns the tenant's new version, published.
   */
  async bump(tenant: TenantId, walLsn: number): Promise<number> {
    const version = await this.handOut(tenant, walLsn, true);
    this.observe(tenant, version);
    return version;
  }

  /**
   * As `bump`, but the version is not published until `publish`: answers can be computed under
   * it first. Every change committed before this call is covered by the version returned, and
   * by every later one (a delete published meanwhile included).
   */
  reserve(tenant: TenantId, walLsn: number): Promise<number> {
    return this.handOut(tenant, walLsn, false);
  }

  async publish(tenant: TenantId, version: number): Promise<void> {
    await this.redis.eval(PUBLISH_SCRIPT, 1, RedisKey.CorpusVersions, tenant, version);
    this.observe(tenant, version);
  }

  /**
   * The position is stored before the version moves, so whoever has seen a version finds a
   * recorded position at or past all of its changes (ADR 0014). One position serves every
   * tenant: it only ever moves forward.
   */
  private async handOut(tenant: TenantId, walLsn: number, publish: boolean): Promise<number> {
    await this.redis.eval(RECORD_LSN_SCRIPT, 1, RedisKey.CorpusWalLsn, walLsn);
    return Number(
      await this.redis.eval(
        RESERVE_SCRIPT,
        2,
        RedisKey.CorpusVersions,
        RedisKey.CorpusVersionsReserved,
        tenant,
        Date.now(),
        publish ? '1' : '0',
      ),
    );
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
