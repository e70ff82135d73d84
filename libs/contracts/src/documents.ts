export const DocumentStatus = {
  Queued: 'queued',
  Processing: 'processing',
  Indexed: 'indexed',
  Failed: 'failed',
} as const;
export type DocumentStatus = (typeof DocumentStatus)[keyof typeof DocumentStatus];
export const DOCUMENT_STATUSES = Object.values(DocumentStatus);

/** Content types an upload may have; the ingest worker has an extractor for each. */
export const SupportedMimeType = {
  PlainText: 'text/plain',
  Markdown: 'text/markdown',
  Html: 'text/html',
  Pdf: 'application/pdf',
  Docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
} as const;
export type SupportedMimeType = (typeof SupportedMimeType)[keyof typeof SupportedMimeType];

export const COLLECTION_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
export const DEFAULT_COLLECTION = 'default';
