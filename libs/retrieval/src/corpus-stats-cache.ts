import type { CorpusStats } from '#libs/database';

/**
 * BM25's N and average chunk length, and the configurations in use, re-read whenever a job
 * carries a corpus version other than the last one seen. The read is a few rows of
 * `corpus_stats`, so it is never worth serving stats older than the corpus the gateway keyed
 * its cache with: an answer computed from them would be cached under the new version.
 */
export class CorpusStatsCache {
  private stats: CorpusStats | undefined;
  private version: number | undefined;
  private loading: { version: number; promise: Promise<CorpusStats> } | undefined;

  constructor(private readonly load: () => Promise<CorpusStats>) {}

  async get(corpusVersion: number): Promise<CorpusStats> {
    if (this.stats !== undefined && corpusVersion === this.version) return this.stats;
    // Concurrent jobs of the same version share one read.
    if (this.loading?.version !== corpusVersion) {
      const promise = this.load().then((stats) => {
        this.stats = stats;
        this.version = corpusVersion;
        return stats;
      });
      this.loading = { version: corpusVersion, promise };
      void promise
        .finally(() => {
          if (this.loading?.promise === promise) this.loading = undefined;
        })
        .catch(() => undefined);
    }
    return this.loading.promise;
  }
}
