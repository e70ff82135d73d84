/** Redis keys shared between apps, relative to the deployment's key prefix. */
export const RedisKey = {
  CorpusVersion: 'corpus:version',
  QueryCache: (cacheKey: string) => `qcache:${cacheKey}`,
  RateLimit: 'rl',
} as const;
