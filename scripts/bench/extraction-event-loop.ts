import { monitorEventLoopDelay } from 'node:perf_hooks';
import { SupportedMimeType } from '#libs/contracts';
import { ExtractionPool } from '../../apps/ingest-worker/src/extraction/extraction-pool.js';
import { extractDocumentText } from '../../apps/ingest-worker/src/ingest/text-extraction.js';
import { ENGLISH_PARAGRAPHS, pdfWithText } from '../../test/support/fixtures.js';

/**
 * How long reading a ~10 MiB PDF blocks the ingest worker's event loop: in the event loop, as
 * the worker did before the extraction sandbox, and in an extraction thread, as it does now.
 * Prints the event-loop delay (max and p99, perf_hooks.monitorEventLoopDelay at 10 ms
 * resolution) and the wall time of each, measured in the same run.
 *   npm run bench:extraction [-- --mib 10]
 */
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

async function measure(what: string, run: () => Promise<number>): Promise<void> {
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const startedAt = performance.now();
  const characters = await run();
  const wallMs = performance.now() - startedAt;
  delay.disable();
  process.stdout.write(
    `${what}: ${characters} characters in ${Math.round(wallMs)} ms; event-loop delay max ` +
      `${(delay.max / 1e6).toFixed(0)} ms, p99 ${(delay.percentile(99) / 1e6).toFixed(0)} ms\n`,
  );
}

await measure(
  'in the event loop (before)',
  async () => (await extractDocumentText(pdf, SupportedMimeType.Pdf)).length,
);
const pool = new ExtractionPool({ threads: 1, timeoutMs: 600_000, memoryMb: 1024 });
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
