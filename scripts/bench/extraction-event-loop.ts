import { SupportedMimeType } from '#libs/contracts';
import { ExtractionPool } from '../../apps/ingest-worker/src/extraction/extraction-pool.js';
import { extractDocumentText } from '../../apps/ingest-worker/src/ingest/text-extraction.js';
import { ENGLISH_PARAGRAPHS, pdfWithText } from '../../test/support/fixtures.js';

/**
 * How long reading a ~10 MiB PDF blocks the ingest worker's event loop: in the event loop, as
 * the worker did before the extraction sandbox, and in an extraction thread, as it does now.
 * Prints the event-loop delay (max and p99 of a 10 ms ticker's lateness) and the wall time of
 * each, measured in the same run.
 *   npm run bench:extraction [-- --mib 10]
 */
const TICK_MS = 10;
const mibFlag = process.argv.indexOf('--mib');
const mib = mibFlag === -1 ? 10 : Number(process.argv[mibFlag + 1]);

const paragraphs: string[] = [];
let pdf = await pdfWithText(ENGLISH_PARAGRAPHS);
// pdf-lib writes content streams uncompressed: grow the text until the file reaches the size.
while (pdf.length < mib * 2 ** 20) {
  const missing = Math.ceil(((mib * 2 ** 20 - pdf.length) / pdf.length) * Math.max(1, paragraphs.length));
  for (let i = 0; i < Math.max(missing, 50); i++)
    paragraphs.push(ENGLISH_PARAGRAPHS[i % ENGLISH_PARAGRAPHS.length]);
  pdf = await pdfWithText(paragraphs);
}
process.stdout.write(`PDF: ${(pdf.length / 2 ** 20).toFixed(1)} MiB, ${paragraphs.length} paragraphs\n`);

/**
 * A 10 ms ticker records how late each tick fires: the event-loop delay a worker's lock renewals
 * and other jobs would see. (perf_hooks' monitorEventLoopDelay timer is unref'd and reported no
 * samples across one long block; this one also keeps the process alive while a thread works.)
 */
async function measure(what: string, run: () => Promise<number>): Promise<void> {
  const delays: number[] = [];
  let expected = performance.now() + TICK_MS;
  const ticker = setInterval(() => {
    const now = performance.now();
    delays.push(Math.max(0, now - expected));
    expected = now + TICK_MS;
  }, TICK_MS);
  const startedAt = performance.now();
  const characters = await run();
  const finishedAt = performance.now();
  const wallMs = finishedAt - startedAt;
  clearInterval(ticker);
  // A block that lasts until the end never let the last tick fire: count its lateness too.
  delays.push(Math.max(0, finishedAt - expected));
  delays.sort((a, b) => a - b);
  const p99 = delays[Math.min(delays.length - 1, Math.floor(delays.length * 0.99))] ?? 0;
  process.stdout.write(
    `${what}: ${characters} characters in ${Math.round(wallMs)} ms; event-loop delay max ` +
      `${Math.round(delays.at(-1) ?? wallMs)} ms, p99 ${Math.round(p99)} ms (${delays.length} ticks)\n`,
  );
}

await measure(
  'in the event loop (before)',
  async () => (await extractDocumentText(pdf, SupportedMimeType.Pdf)).length,
);
// As much heap as the main thread has by default: this PDF's 23.7 M characters need more than 1 GB to
// extract (at the default EXTRACTION_MEMORY_MB of 512 such a document fails with a readable error).
const pool = new ExtractionPool({ threads: 1, timeoutMs: 600_000, memoryMb: 4096 });
await measure('in an extraction thread (after)', async () => {
  const outcome = await pool.run({
    body: new Uint8Array(pdf),
    mimeType: SupportedMimeType.Pdf,
    chunkSize: 1200,
    chunkOverlap: 200,
    declaredLanguage: undefined,
    maxExpandedBytes: 2 ** 30,
  });
  return outcome.ok ? outcome.text.length : 0;
});
await pool.close();
