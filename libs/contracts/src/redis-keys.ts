/** Redis keys shared between apps, relative to the deployment's key prefix. */
export const RedisKey = {
  CorpusVersion: 'corpus:version',
  /** The primary's WAL position (bytes) below which every change of every published version lies. */
  CorpusWalLsn: 'corpus:wal-lsn',
  QueryCache: (cacheKey: string) => `qcache:${cacheKey}`,
  RateLimit: 'rl',
} as const;
