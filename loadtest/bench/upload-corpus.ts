import { createReadStream } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { loopbackUrl } from './loopback.js';
import { note, print, table } from './report.js';
import { positive } from './workload.js';

/**
 * Gives the benchmarks a real corpus and measures bulk ingest: uploads SciFact abstracts (one
 * document each, title and text) a few requests at a time, one document per POST /documents or,
 * with `--batch N`, N per POST /documents/batch (NDJSON), then waits until the ingest queue has
 * indexed them all. The documents go to the "scifact" collection; run `npm run bench:keys` first.
 *
 * The end-to-end figure is taken from the server's own timestamps (the first document's
 * created_at to the last one's indexed_at, both from Postgres), not from polling, so it does not
 * carry the list cache's second of staleness.
 */
const { values } = parseArgs({
  options: {
    help: { type: 'boolean', short: 'h' },
    target: { type: 'string', default: process.env.TOPOLOGY_URL ?? 'http://127.0.0.1:8000' },
    data: { type: 'string', default: process.env.SCIFACT_DIR ?? '../shared/eval/scifact' },
    count: { type: 'string', default: '2000' },
    all: { type: 'boolean', default: false },
    batch: { type: 'string', default: '0' },
    concurrency: { type: 'string', default: '16' },
    collection: { type: 'string', default: 'scifact' },
    token: { type: 'string', default: 'test-load-token-1' },
  },
});
if (values.help) {
  print(
    'usage: npm run bench:corpus -- [--count N | --all] [--batch N] [--concurrency N] [--collection C]' +
      ' [--data DIR] [--target URL] [--token T]',
  );
  process.exit(0);
}

const target = loopbackUrl(values.target);
const count = values.all ? Number.POSITIVE_INFINITY : Math.round(positive('count', values.count));
const batchSize = values.batch === '0' ? 0 : Math.round(positive('batch', values.batch));
const collection = values.collection;
const auth = { authorization: `Bearer ${values.token}` };

interface Abstract {
  title: string;
  content: string;
  collection: string;
}
const abstracts: Abstract[] = [];
const lines = createInterface({ input: createReadStream(path.join(values.data, 'corpus.jsonl')) });
for await (const line of lines) {
  if (abstracts.length >= count) break;
  const row = JSON.parse(line) as { title: string; text: string };
  abstracts.push({
    title: row.title.slice(0, 300) || 'untitled',
    content: row.text || row.title,
    collection,
  });
}
lines.close();

/** Posts one request until it is accepted, honouring Retry-After (429/503) as a polite loader does. */
async function post(pathname: string, contentType: string, body: string): Promise<Response> {
  for (;;) {
    const response = await fetch(new URL(pathname, target), {
      method: 'POST',
      headers: { ...auth, 'content-type': contentType },
      body,
    });
    const retryAfter = Number(response.headers.get('retry-after'));
    if ((response.status === 429 || response.status === 503) && retryAfter > 0) {
      toldToWait++;
      await response.body?.cancel();
      await sleep(retryAfter * 1000);
      continue;
    }
    return response;
  }
}

interface BatchLineResult {
  status: number;
  id?: string;
  message?: string;
}

/** Sends documents one per request, or a batch per request; returns the ids accepted. */
async function upload(documents: Abstract[]): Promise<string[]> {
  if (batchSize === 0) {
    const response = await post('/documents', 'application/json', JSON.stringify(documents[0]));
    if (response.status !== 202)
      throw new Error(`upload answered ${response.status}: ${await response.text()}`);
    return [((await response.json()) as { id: string }).id];
  }
  let pending = documents;
  const ids: string[] = [];
  while (pending.length > 0) {
    const body = pending.map((document) => JSON.stringify(document)).join('\n');
    const response = await post('/documents/batch', 'application/x-ndjson', body);
    if (response.status !== 200)
      throw new Error(`batch answered ${response.status}: ${await response.text()}`);
    const { results } = (await response.json()) as { results: BatchLineResult[] };
    // Lines refused for the tenant's backlog (429) are sent again; any other refusal is a bug here.
    const retry: Abstract[] = [];
    results.forEach((result, i) => {
      if (result.status === 202 && result.id !== undefined) ids.push(result.id);
      else if (result.status === 429) retry.push(pending[i]);
      else throw new Error(`batch line ${i + 1} answered ${result.status}: ${result.message ?? ''}`);
    });
    if (retry.length > 0) {
      toldToWait++;
      await sleep(1000);
    }
    pending = retry;
  }
  return ids;
}

const startedAt = performance.now();
const ids: string[] = [];
let next = 0;
let toldToWait = 0;
const perRequest = Math.max(batchSize, 1);
const uploader = async (): Promise<void> => {
  while (next < abstracts.length) {
    const documents = abstracts.slice(next, next + perRequest);
    next += documents.length;
    ids.push(...(await upload(documents)));
  }
};
await Promise.all(Array.from({ length: Math.round(positive('concurrency', values.concurrency)) }, uploader));
const uploadSeconds = (performance.now() - startedAt) / 1000;
note(
  `uploaded ${ids.length} documents in ${uploadSeconds.toFixed(1)} s` +
    ` (told to wait and retried ${toldToWait} times)`,
);

async function page(query: string): Promise<{ items: DocumentRow[]; next_cursor: string | null }> {
  const response = await fetch(new URL(`/documents?${query}`, target), { headers: auth });
  if (response.status !== 200) throw new Error(`list answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as { items: DocumentRow[]; next_cursor: string | null };
}
interface DocumentRow {
  status: string;
  created_at: string;
  indexed_at: string | null;
}

// Done when the collection has nothing left queued or processing (the list is at most 1 s stale).
for (;;) {
  const queued = await page(`collection=${collection}&status=queued&limit=1`);
  const processing = await page(`collection=${collection}&status=processing&limit=1`);
  if (queued.items.length === 0 && processing.items.length === 0) break;
  await sleep(500);
}
const waitedSeconds = (performance.now() - startedAt) / 1000;

// The server's timestamps of this run's documents (the collection may hold earlier runs': only
// the newest `ids.length` are this run's).
const rows: DocumentRow[] = [];
for (let cursor: string | null = ''; cursor !== null && rows.length < ids.length;) {
  const listed = await page(
    `collection=${collection}&limit=100${cursor === '' ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
  );
  rows.push(...listed.items);
  cursor = listed.next_cursor;
}
const ours = rows.slice(0, ids.length);
const failures = ours.filter((row) => row.status === 'failed').length;
const firstCreated = Math.min(...ours.map((row) => Date.parse(row.created_at)));
const lastCreated = Math.max(...ours.map((row) => Date.parse(row.created_at)));
const lastIndexed = Math.max(
  ...ours.map((row) => (row.indexed_at === null ? 0 : Date.parse(row.indexed_at))),
);
const endToEnd = (lastIndexed - firstCreated) / 1000;
print(
  `== bulk ingest: ${ids.length} SciFact abstracts, ${batchSize === 0 ? 'one per POST /documents' : `${batchSize} per POST /documents/batch`}, ${values.concurrency} requests at a time ==`,
);
for (const line of table([
  ['stage', 'seconds', 'documents/s'],
  [
    'uploads (client: first sent to last answered)',
    uploadSeconds.toFixed(1),
    (ids.length / uploadSeconds).toFixed(0),
  ],
  [
    'stored (server: first created_at to last)',
    ((lastCreated - firstCreated) / 1000).toFixed(1),
    (ids.length / ((lastCreated - firstCreated) / 1000)).toFixed(0),
  ],
  [
    'end to end (server: first created_at to last indexed_at)',
    endToEnd.toFixed(1),
    (ids.length / endToEnd).toFixed(0),
  ],
  ['client saw none pending (list cache ≤ 1 s stale)', waitedSeconds.toFixed(1), ''],
])) {
  print(line);
}
print(`failed: ${failures}`);
if (failures > 0) process.exitCode = 1;
