import type { TenantId } from './tenants.js';

/**
 * The queue contract every app shares. Jobs already in Redis carry these names:
 * never rename one without a migration plan.
 */
export const QueueName = {
  Ingest: 'ingest',
  Query: 'query',
} as const;
export type QueueName = (typeof QueueName)[keyof typeof QueueName];

export const JobName = {
  IngestDocument: 'ingest-document',
  AnswerQuery: 'answer-query',
} as const;
export type JobName = (typeof JobName)[keyof typeof JobName];

/** The job carries only the id: Postgres is the source of truth for the upload. */
export interface IngestDocumentPayload {
  /** The document's tenant: every repository call of the job is scoped by it (and the dashboard shows it). */
  tenant: TenantId;
  documentId: string;
  /** Request id of the upload, carried into the worker's logs. */
  requestId?: string;
}

export interface IngestDocumentResult {
  documentId: string;
  chunkCount: number;
  /** Time the worker spent on the job, for the ingest duration histogram. */
  durationMs: number;
}

export interface AnswerQueryPayload {
  /** The asking key's tenant: only its documents are searched, with its own corpus statistics. */
  tenant: TenantId;
  query: string;
  topK: number;
  collection: string | null;
  /** The tenant's corpus version the gateway keyed its cache with; the worker refreshes that tenant's statistics on change. */
  corpusVersion: number;
  requestId?: string;
}

export interface QuerySource {
  document_id: string;
  chunk_id: string;
  title: string;
  snippet: string;
  score: number;
}

/**
 * A query job's failure reason starts with this when Postgres could not be reached: the gateway
 * answers 503 with Retry-After (try again shortly), not 502 (the worker failed).
 */
export const INDEX_UNAVAILABLE_REASON = 'index unavailable';

export interface AnswerQueryResult {
  answer: string;
  sources: QuerySource[];
  /** Time the worker spent retrieving and composing. */
  durationMs: number;
}

/** Maps each job name to its queue, payload and result, so a mismatched enqueue does not compile. */
export interface JobContract {
  [JobName.IngestDocument]: {
    queue: typeof QueueName.Ingest;
    payload: IngestDocumentPayload;
    result: IngestDocumentResult;
  };
  [JobName.AnswerQuery]: {
    queue: typeof QueueName.Query;
    payload: AnswerQueryPayload;
    result: AnswerQueryResult;
  };
}
export type JobPayload<N extends JobName> = JobContract[N]['payload'];
export type JobResult<N extends JobName> = JobContract[N]['result'];
export type JobQueue<N extends JobName> = JobContract[N]['queue'];

export const JOB_QUEUE: { readonly [N in JobName]: JobQueue<N> } = {
  [JobName.IngestDocument]: QueueName.Ingest,
  [JobName.AnswerQuery]: QueueName.Query,
};
