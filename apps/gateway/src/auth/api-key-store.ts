import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { ApiKeysRepository, hashApiKey, type ActiveApiKey } from '#libs/database';
import type { AuthenticatedKey } from './authenticated-key.js';

/**
 * Background reload period: a revoked or rotated-out key stops working in every gateway process
 * within about this long (each process reloads on its own; nothing needs to reach them).
 */
export const REFRESH_INTERVAL_MS = 2_000;
/** An unknown token may force a reload at most this often, so guessing keys cannot load the database. */
const ON_DEMAND_MIN_INTERVAL_MS = 1_000;
/**
 * `last_used_at` is written in one statement per process this often, never per request: the
 * hot path only adds the key's id to a set. `apikey list` is therefore up to this much behind.
 */
export const LAST_USED_FLUSH_INTERVAL_MS = 10_000;

interface StoredKey {
  key: AuthenticatedKey;
  /** Set for a token replaced by a rotation: it works until then (ms since the epoch). */
  expiresAt?: number;
}

/**
 * Every active key, by hash, in memory: authenticating a request costs one SHA-256 and a map
 * lookup, never a database query. Reloaded in the background, and on demand (throttled) when
 * a token is unknown, so a key created a moment ago works at once.
 */
@Injectable()
export class ApiKeyStore implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(ApiKeyStore.name);
  private byHash = new Map<string, StoredKey>();
  private timer: NodeJS.Timeout | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private periodic: Promise<void> | undefined;
  /** The next reload for unknown tokens, while it has not started its query yet. */
  private nextReload: Promise<void> | undefined;
  private lastOnDemandAt = Number.NEGATIVE_INFINITY;
  /** Loads may overlap (periodic and on demand); only a newer load's result replaces the map. */
  private startedLoads = 0;
  private appliedLoad = 0;
  /** Ids of the keys used since the last flush of `last_used_at`. */
  private used = new Set<string>();

  constructor(private readonly apiKeys: ApiKeysRepository) {}

  async onModuleInit(): Promise<void> {
    await this.load();
    this.timer = setInterval(() => {
      this.periodic ??= this.load()
        .catch((error: Error) => this.logger.warn(`API key reload failed: ${error.message}`))
        .finally(() => (this.periodic = undefined));
    }, REFRESH_INTERVAL_MS).unref();
    this.flushTimer = setInterval(() => void this.flushLastUsed(), LAST_USED_FLUSH_INTERVAL_MS).unref();
  }

  /** Before the database pool closes: the last uses are written too. */
  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    clearInterval(this.flushTimer);
    await this.flushLastUsed();
  }

  /** The key for this token from memory alone. */
  find(token: string): AuthenticatedKey | undefined {
    return this.lookup(hashApiKey(token));
  }

  /**
   * Like find, but an unknown token waits for a reload, so a key created a moment ago works.
   * Reloads for unknown tokens start at most once a second (guessing keys cannot load the
   * database); every caller waiting meanwhile shares the next one, which starts after they arrived.
   */
  async findFresh(token: string): Promise<AuthenticatedKey | undefined> {
    const hash = hashApiKey(token);
    const known = this.lookup(hash);
    if (known !== undefined) return known;
    this.nextReload ??= this.scheduleReload();
    await this.nextReload;
    return this.lookup(hash);
  }

  /** Writes the ids collected since the last flush; a failed write puts them back for the next one. */
  async flushLastUsed(): Promise<void> {
    if (this.used.size === 0) return;
    const ids = [...this.used];
    this.used = new Set();
    await this.apiKeys.touchLastUsed(ids, new Date()).catch((error: Error) => {
      for (const id of ids) this.used.add(id);
      this.logger.warn(`could not record API key use: ${error.message}`);
    });
  }

  private lookup(hash: string): AuthenticatedKey | undefined {
    const stored = this.byHash.get(hash);
    if (stored === undefined) return undefined;
    // A rotated-out token ends at its deadline even between reloads.
    if (stored.expiresAt !== undefined && stored.expiresAt <= Date.now()) return undefined;
    this.used.add(stored.key.id);
    return stored.key;
  }

  private async scheduleReload(): Promise<void> {
    const wait = Math.max(0, this.lastOnDemandAt + ON_DEMAND_MIN_INTERVAL_MS - performance.now());
    await new Promise((resolve) => setTimeout(resolve, wait));
    // Callers arriving from now on may miss this load's snapshot: they wait for the next one.
    this.nextReload = undefined;
    this.lastOnDemandAt = performance.now();
    await this.load().catch((error: Error) => this.logger.warn(`API key reload failed: ${error.message}`));
  }

  private async load(): Promise<void> {
    const loadNumber = ++this.startedLoads;
    const rows = await this.apiKeys.findActive();
    if (loadNumber < this.appliedLoad) return;
    this.appliedLoad = loadNumber;
    const byHash = new Map<string, StoredKey>();
    for (const row of rows) {
      const key = toAuthenticatedKey(row);
      byHash.set(row.keyHash, { key });
      if (row.previousKeyHash !== null && row.previousKeyExpiresAt !== null) {
        byHash.set(row.previousKeyHash, { key, expiresAt: row.previousKeyExpiresAt.getTime() });
      }
    }
    this.byHash = byHash;
  }
}

function toAuthenticatedKey(row: ActiveApiKey): AuthenticatedKey {
  return {
    id: row.id,
    name: row.name,
    tenant: row.tenant,
    scopes: new Set(row.scopes),
    rateLimit: row.rateLimit,
    tenantRateLimit: row.tenantRateLimit,
  };
}
