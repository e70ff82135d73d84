import { createReadStream } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { loopbackUrl } from './loopback.js';
import { note, print } from './report.js';
import { positive } from './workload.js';

/**
 * Gives the benchmarks a real corpus: uploads SciFact abstracts (one document each, title and
 * text) through POST /documents, a few at a time, then waits until the ingest queue has indexed
 * them all. The documents go to the "scifact" collection; run `npm run bench:keys` first.
 */
const { values } = parseArgs({
  options: {
    help: { type: 'boolean', short: 'h' },
    target: { type: 'string', default: process.env.TOPOLOGY_URL ?? 'http://127.0.0.1:8000' },
    data: { type: 'string', default: process.env.SCIFACT_DIR ?? '../shared/eval/scifact' },
    count: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '16' },
    token: { type: 'string', default: 'test-load-token-1' },
  },
});
if (values.help) {
  print('usage: npm run bench:corpus -- [--count N] [--data DIR] [--target URL] [--token T]');
  process.exit(0);
}

const target = loopbackUrl(values.target);
const count = Math.round(positive('count', values.count));
const headers = { authorization: `Bearer ${values.token}`, 'content-type': 'application/json' };

const abstracts: { title: string; text: string }[] = [];
const lines = createInterface({ input: createReadStream(path.join(values.data, 'corpus.jsonl')) });
for await (const line of lines) {
  if (abstracts.length >= count) break;
  const row = JSON.parse(line) as { title: string; text: string };
  abstracts.push({ title: row.title.slice(0, 300) || 'untitled', text: row.text || row.title });
}
lines.close();

const startedAt = performance.now();
const ids: string[] = [];
let next = 0;
let toldToWait = 0;
const uploader = async (): Promise<void> => {
  while (next < abstracts.length) {
    const abstract = abstracts[next++];
    for (;;) {
      const response = await fetch(new URL('/documents', target), {
        method: 'POST',
        headers,
        body: JSON.stringify({ title: abstract.title, content: abstract.text, collection: 'scifact' }),
      });
      // Past the ingest backlog limits the gateway says when to come back; a polite client does.
      const retryAfter = Number(response.headers.get('retry-after'));
      if ((response.status === 429 || response.status === 503) && retryAfter > 0) {
        toldToWait++;
        await response.body?.cancel();
        await sleep(retryAfter * 1000);
        continue;
      }
      if (response.status !== 202)
        throw new Error(`upload answered ${response.status}: ${await response.text()}`);
      ids.push(((await response.json()) as { id: string }).id);
      break;
    }
  }
};
await Promise.all(Array.from({ length: Math.round(positive('concurrency', values.concurrency)) }, uploader));
const uploadedAt = performance.now();
note(
  `uploaded ${ids.length} documents in ${((uploadedAt - startedAt) / 1000).toFixed(1)} s` +
    ` (told to wait and retried ${toldToWait} times)`,
);

// Done when the collection has nothing left queued or processing (the list is at most 1 s stale).
for (;;) {
  const response = await fetch(new URL(`/documents?collection=scifact&status=queued&limit=1`, target), {
    headers,
  });
  const queued = ((await response.json()) as { items: unknown[] }).items.length;
  const processing = await fetch(new URL(`/documents?collection=scifact&status=processing&limit=1`, target), {
    headers,
  });
  if (queued === 0 && ((await processing.json()) as { items: unknown[] }).items.length === 0) break;
  await new Promise((resolve) => setTimeout(resolve, 500));
}
const failed = await fetch(new URL(`/documents?collection=scifact&status=failed&limit=100`, target), {
  headers,
});
const failures = ((await failed.json()) as { items: unknown[] }).items.length;
note(
  `indexed in ${((performance.now() - startedAt) / 1000).toFixed(1)} s from the first upload` +
    `; failed: ${failures}`,
);
