/** Redis keys shared between apps, relative to the deployment's key prefix. */
export const RedisKey = {
  /** Hash: tenant → that tenant's corpus version. */
  CorpusVersions: 'corpus:versions',
  /** Hash: tenant → the last version handed out, published or not yet (corpus-version.ts). */
  CorpusVersionsReserved: 'corpus:versions-reserved',
  /** The primary's WAL position (bytes) below which every change of every published version lies. */
  CorpusWalLsn: 'corpus:wal-lsn',
  /** The cache key starts with the tenant (query-key.ts), so one tenant's answers can be found and dropped. */
  QueryCache: (cacheKey: string) => `qcache:${cacheKey}`,
  /** Sorted sets per tenant: questions → the last version they were asked under (answer-demand.ts). */
  AskedQuestions: (tenant: string) => `questions:asked:${tenant}`,
  HotQuestions: (tenant: string) => `questions:hot:${tenant}`,
  RateLimit: 'rl',
  /** Held by the one process that exports queue depths for the whole deployment (a lease with a TTL). */
  QueueDepthLease: 'metrics:queue-depth-lease',
} as const;
