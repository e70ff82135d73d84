import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { CpuMeter, resolveServerProcesses } from './cpu.js';
import { loopbackUrl } from './loopback.js';
import { cpuLines, note, print, table, writeJson } from './report.js';
import { percentile } from './stats.js';
import { positive } from './workload.js';
import { MEASUREMENT_OPTIONS } from './options.js';

/**
 * Ingest timing: uploads a ~100 KB text document, polls GET /documents/{id} until it is
 * `indexed`, and reports the median of a few runs. Each document is deleted afterwards.
 */
const { values } = parseArgs({
  options: {
    ...MEASUREMENT_OPTIONS,
    token: { type: 'string', default: 'test-load-token-1' },
    runs: { type: 'string', default: '5' },
    'size-kb': { type: 'string', default: '100' },
    'poll-ms': { type: 'string', default: '20' },
    timeout: { type: 'string', default: '120' },
    keep: { type: 'boolean', default: false },
  },
});

if (values.help) {
  print('usage: npm run bench:ingest -- [options]; the options are listed in loadtest/bench/README.md');
  process.exit(0);
}

const target = loopbackUrl(values.target);
const runs = Math.round(positive('runs', values.runs));
const sizeBytes = positive('size-kb', values['size-kb']) * 1000;
const pollMs = positive('poll-ms', values['poll-ms']);
const timeoutMs = positive('timeout', values.timeout) * 1000;
const headers = { authorization: `Bearer ${values.token}` };

const WORDS = (
  'password account reset security settings invoice billing refund policy upload document search ' +
  'query answer index chunk retrieval ranking latency cache gateway worker queue database redis ' +
  'postgres network request response error timeout limit token session user team member admin ' +
  'report export import format markdown html text language english stemming vector keyword phrase'
).split(' ');

/** Plain English-like text of about `bytes` bytes, different on every call (no dedup, no cache). */
function generateText(bytes: number, seed: string): string {
  let state = Number.parseInt(seed.slice(0, 8), 16) || 1;
  const next = (): number => {
    // xorshift32: cheap and deterministic per seed.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x1_0000_0000;
  };
  const paragraphs: string[] = [`Benchmark document ${seed}.`];
  let length = paragraphs[0]?.length ?? 0;
  while (length < bytes) {
    const sentences: string[] = [];
    for (let s = 0; s < 5; s += 1) {
      const words = Array.from(
        { length: 8 + Math.floor(next() * 12) },
        () => WORDS[Math.floor(next() * WORDS.length)],
      );
      sentences.push(`${words.join(' ')}.`);
    }
    const paragraph = sentences.join(' ');
    paragraphs.push(paragraph);
    length += paragraph.length + 2;
  }
  return paragraphs.join('\n\n').slice(0, bytes);
}

interface IngestRun {
  id: string;
  acceptedMs: number;
  indexedMs: number;
  status: string;
  chunkCount: number | null;
}

async function json(response: Awaited<ReturnType<typeof request>>): Promise<Record<string, unknown>> {
  return (await response.body.json()) as Record<string, unknown>;
}

async function ingestOnce(): Promise<IngestRun> {
  const seed = randomBytes(8).toString('hex');
  const body = JSON.stringify({
    title: `bench ${seed}`,
    content: generateText(sizeBytes, seed),
    collection: 'bench',
  });
  const startedAt = performance.now();
  const upload = await request(new URL('/documents', target), {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body,
  });
  const accepted = await json(upload);
  const acceptedMs = performance.now() - startedAt;
  if (upload.statusCode !== 202 || typeof accepted.id !== 'string') {
    throw new Error(`upload answered ${upload.statusCode}: ${JSON.stringify(accepted)}`);
  }
  const id = accepted.id;
  const deadline = startedAt + timeoutMs;
  for (;;) {
    const poll = await request(new URL(`/documents/${id}`, target), { headers });
    const document = await json(poll);
    const status = typeof document.status === 'string' ? document.status : `HTTP ${poll.statusCode}`;
    if (
      status === 'indexed' ||
      status === 'failed' ||
      poll.statusCode !== 200 ||
      performance.now() > deadline
    ) {
      return {
        id,
        acceptedMs,
        indexedMs: performance.now() - startedAt,
        status,
        chunkCount: typeof document.chunk_count === 'number' ? document.chunk_count : null,
      };
    }
    await sleep(pollMs);
  }
}

const meter = new CpuMeter(resolveServerProcesses({ pids: values.pids, pidFile: values['pid-file'] }));
const results: IngestRun[] = [];
meter.start();
for (let run = 1; run <= runs; run += 1) {
  const result = await ingestOnce();
  results.push(result);
  note(
    `run ${run}/${runs}: ${result.status} after ${result.indexedMs.toFixed(0)} ms (${result.chunkCount ?? '?'} chunks)`,
  );
  if (!values.keep) {
    const removal = await request(new URL(`/documents/${result.id}`, target), { method: 'DELETE', headers });
    await removal.body.dump();
  }
}
const cpu = meter.stop();

const indexed = results.filter((result) => result.status === 'indexed');
const sorted = (pick: (run: IngestRun) => number): Float64Array =>
  Float64Array.from(indexed.map(pick)).sort();
const timeToIndexed = sorted((run) => run.indexedMs);
const timeToAccepted = sorted((run) => run.acceptedMs);
print(
  `== ingest: ${target.origin}, ${runs} uploads of ${(sizeBytes / 1000).toFixed(0)} KB text, polled every ${pollMs} ms ==`,
);
for (const line of table([
  ['', 'median ms', 'min ms', 'max ms'],
  [
    'upload answered (202)',
    percentile(timeToAccepted, 0.5).toFixed(1),
    (timeToAccepted[0] ?? 0).toFixed(1),
    (timeToAccepted[timeToAccepted.length - 1] ?? 0).toFixed(1),
  ],
  [
    'upload to indexed',
    percentile(timeToIndexed, 0.5).toFixed(1),
    (timeToIndexed[0] ?? 0).toFixed(1),
    (timeToIndexed[timeToIndexed.length - 1] ?? 0).toFixed(1),
  ],
])) {
  print(line);
}
print(
  `indexed ${indexed.length} of ${results.length}; chunks per document: ${indexed[0]?.chunkCount ?? '?'}`,
);
for (const line of cpuLines(cpu, results.length)) print(line.replace('µs/request', 'µs/document'));
writeJson(values.json, { workload: 'ingest-timing', sizeBytes, runs: results, cpu });
if (indexed.length < results.length) process.exitCode = 1;
