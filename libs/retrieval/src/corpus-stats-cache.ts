import type { CorpusStats } from '#libs/database';

/** Refreshing more often than this would re-count the chunks on every job during a bulk upload. */
export const STATS_MIN_REFRESH_MS = 1_000;

/**
 * BM25's N and average chunk length, and the configurations in use, re-read when a job carries a
 * corpus version other than the last one seen, at most once per STATS_MIN_REFRESH_MS. Stats a
 * second old barely move BM25 scores; the postings themselves are always read live.
 */
export class CorpusStatsCache {
  private stats: CorpusStats | undefined;
  private version: number | undefined;
  private loadedAt = Number.NEGATIVE_INFINITY;
  private loading: Promise<CorpusStats> | undefined;

  constructor(
    private readonly load: () => Promise<CorpusStats>,
    private readonly now: () => number = Date.now,
    private readonly minRefreshMs: number = STATS_MIN_REFRESH_MS,
  ) {}

  async get(corpusVersion: number): Promise<CorpusStats> {
    const fresh = this.stats !== undefined && corpusVersion === this.version;
    const throttled = this.now() - this.loadedAt < this.minRefreshMs;
    if (this.stats !== undefined && (fresh || throttled)) return this.stats;
    // Concurrent jobs share one read.
    this.loading ??= this.refresh(corpusVersion).finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async refresh(corpusVersion: number): Promise<CorpusStats> {
    const stats = await this.load();
    this.stats = stats;
    this.version = corpusVersion;
    this.loadedAt = this.now();
    return stats;
  }
}
