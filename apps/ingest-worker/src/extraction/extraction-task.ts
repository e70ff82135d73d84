import type { TextSearchConfig } from '#libs/database';

/** What the main thread hands an extraction thread: the upload's bytes and how to chunk them. */
export interface ExtractionTask {
  /** A copy of the upload, transferred (not cloned) to the thread. */
  body: Uint8Array;
  mimeType: string;
  chunkSize: number;
  chunkOverlap: number;
  /** The uploader's `metadata.lang`, if any. */
  declaredLanguage: unknown;
  /** What a compressed container (DOCX) may expand to: the thread's memory budget. */
  maxExpandedBytes: number;
}

/** One chunk as offsets into `text`: cheaper to send back than a copy of every chunk's content. */
export interface ExtractedChunk {
  start: number;
  end: number;
  language: TextSearchConfig;
}

/**
 * The thread's answer. Errors do not cross a thread boundary with their class, so a failure
 * comes back as data: the message the user will see as the document's `error`.
 */
export type ExtractionOutcome =
  { ok: true; text: string; chunks: ExtractedChunk[] } | { ok: false; message: string };
