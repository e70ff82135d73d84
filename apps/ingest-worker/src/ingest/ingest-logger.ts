/** Injection token for the process's pino logger: job logs carry structured fields (job, document, request id). */
export const INGEST_LOGGER = Symbol('INGEST_LOGGER');
