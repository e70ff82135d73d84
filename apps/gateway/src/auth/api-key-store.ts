import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { ApiKeysRepository, hashApiKey } from '#libs/database';
import type { AuthenticatedKey } from './authenticated-key.js';

/** Background reload period: a revoked key stops working within about this long. */
const REFRESH_INTERVAL_MS = 2_000;
/** An unknown token may force a reload at most this often, so guessing keys cannot load the database. */
const ON_DEMAND_MIN_INTERVAL_MS = 1_000;

/**
 * Every active key, by hash, in memory: authenticating a request costs one SHA-256 and a map
 * lookup, never a database query. Reloaded in the background, and on demand (throttled) when
 * a token is unknown, so a key created a moment ago works at once.
 */
@Injectable()
export class ApiKeyStore implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(ApiKeyStore.name);
  private byHash = new Map<string, AuthenticatedKey>();
  private timer: NodeJS.Timeout | undefined;
  private periodic: Promise<void> | undefined;
  /** The next reload for unknown tokens, while it has not started its query yet. */
  private nextReload: Promise<void> | undefined;
  private lastOnDemandAt = Number.NEGATIVE_INFINITY;
  /** Loads may overlap (periodic and on demand); only a newer load's result replaces the map. */
  private startedLoads = 0;
  private appliedLoad = 0;

  constructor(private readonly apiKeys: ApiKeysRepository) {}

  async onModuleInit(): Promise<void> {
    await this.load();
    this.timer = setInterval(() => {
      this.periodic ??= this.load()
        .catch((error: Error) => this.logger.warn(`API key reload failed: ${error.message}`))
        .finally(() => (this.periodic = undefined));
    }, REFRESH_INTERVAL_MS).unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  /** The key for this token from memory alone. */
  find(token: string): AuthenticatedKey | undefined {
    return this.byHash.get(hashApiKey(token));
  }

  /**
   * Like find, but an unknown token waits for a reload, so a key created a moment ago works.
   * Reloads for unknown tokens start at most once a second (guessing keys cannot load the
   * database); every caller waiting meanwhile shares the next one, which starts after they arrived.
   */
  async findFresh(token: string): Promise<AuthenticatedKey | undefined> {
    const hash = hashApiKey(token);
    const known = this.byHash.get(hash);
    if (known !== undefined) return known;
    this.nextReload ??= this.scheduleReload();
    await this.nextReload;
    return this.byHash.get(hash);
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
    this.byHash = new Map(
      rows.map((row) => [row.keyHash, { id: row.id, name: row.name, rateLimit: row.rateLimit }]),
    );
  }
}
