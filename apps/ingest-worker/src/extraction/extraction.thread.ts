import { parentPort } from 'node:worker_threads';
import { chunkText } from '../ingest/chunker.js';
import { DocumentUnreadableError } from '../ingest/document-unreadable.error.js';
import { detectLanguage } from '../ingest/language.js';
import { extractDocumentText } from '../ingest/text-extraction.js';
import type { ExtractionOutcome, ExtractionTask } from './extraction-task.js';

/**
 * Runs inside an extraction thread: parse, normalise and chunk one upload at a time. Everything
 * CPU-bound about a document happens here, off the ingest worker's event loop, so lock renewals
 * and other jobs go on while a big PDF is read, and a file that hangs or eats memory costs only
 * this thread (the pool terminates it).
 */
async function extract(task: ExtractionTask): Promise<ExtractionOutcome> {
  try {
    const body = Buffer.from(task.body.buffer, task.body.byteOffset, task.body.byteLength);
    const text = await extractDocumentText(body, task.mimeType, { maxExpandedBytes: task.maxExpandedBytes });
    const chunks = chunkText(text, { size: task.chunkSize, overlap: task.chunkOverlap }).map((chunk) => ({
      start: chunk.start,
      end: chunk.end,
      language: detectLanguage(chunk.content, task.declaredLanguage),
    }));
    return { ok: true, text, chunks };
  } catch (error) {
    return { ok: false, message: readableFailure(error) };
  }
}

/** Whatever went wrong, the input caused it: a message for the uploader, never a stack. */
function readableFailure(error: unknown): string {
  if (error instanceof DocumentUnreadableError) return error.message;
  if (error instanceof RangeError && /call stack/i.test(error.message)) {
    return 'The document is nested too deeply to read';
  }
  const message = error instanceof Error ? error.message : String(error);
  return `The document could not be read: ${message.split('\n')[0].slice(0, 300)}`;
}

parentPort?.on('message', (task: ExtractionTask) => {
  void extract(task).then((outcome) => parentPort?.postMessage(outcome));
});
// Loaded (the parsers are imported above): the pool starts the task's clock from here.
parentPort?.postMessage('ready');
