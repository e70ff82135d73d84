/** Redis keys shared between apps, relative to the deployment's key prefix. */
export const RedisKey = {
  /** Hash: tenant → that tenant's corpus version. */
  CorpusVersions: 'corpus:versions',
  /** The cache key starts with the tenant (query-key.ts), so one tenant's answers can be found and dropped. */
  /** The primary's WAL position (bytes) below which every change of every published version lies. */
  CorpusWalLsn: 'corpus:wal-lsn',
  QueryCache: (cacheKey: string) => `qcache:${cacheKey}`,
  RateLimit: 'rl',
  /** Held by the one process that exports queue depths for the whole deployment (a lease with a TTL). */
  QueueDepthLease: 'metrics:queue-depth-lease',
} as const;
