/** Series names operators build dashboards on: the gateway's /metrics (API.md) and the workers'. */
export const MetricName = {
  HttpRequestsTotal: 'http_requests_total',
  HttpRequestDuration: 'http_request_duration_seconds',
  ActiveConnections: 'active_connections',
  QueueJobs: 'queue_jobs',
  QueryCacheHits: 'query_cache_hits_total',
  QueryCacheMisses: 'query_cache_misses_total',
  IngestJobDuration: 'ingest_job_duration_seconds',
  QueryJobDuration: 'query_job_duration_seconds',
  QueueDepthExporter: 'queue_depth_exporter',
  WorkerJobsCompleted: 'worker_jobs_completed_total',
  WorkerJobsFailed: 'worker_jobs_failed_total',
  WorkerJobsRetried: 'worker_jobs_retried_total',
  WorkerJobsActive: 'worker_jobs_active',
} as const;
