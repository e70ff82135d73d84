import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { startBaselineServer } from './baseline.js';
import { CpuMeter, resolveServerProcesses, type CpuReport, type ProcessRef } from './cpu.js';
import { loopbackUrl } from './loopback.js';
import { cpuLines, latencyTable, note, print, writeJson } from './report.js';
import { Tally, type TallySummary } from './stats.js';
import { runUserLoop } from './user-loop.js';
import { parseQueryMix, positive, requestSpec, tokenFor } from './workload.js';
import { LOAD_OPTIONS } from './options.js';

/**
 * The original plan's k6 mixed workload, driven locally: USERS users, each GET /health,
 * GET /documents, POST /query, then a 1 s pause; then the same load against a bare Fastify
 * baseline in the same run. With --upload-rate N, N documents a second are uploaded meanwhile
 * (the cache hit ratio under steady ingest). See loadtest/bench/README.md.
 */
const { values } = parseArgs({
  options: {
    ...LOAD_OPTIONS,
    users: { type: 'string', default: '1000' },
    duration: { type: 'string', default: '30' },
    spread: { type: 'string', default: '1' },
    pause: { type: 'string', default: '1' },
    requests: { type: 'string', default: 'health,documents,query' },
    queries: { type: 'string', default: 'hot' },
    timeout: { type: 'string', default: '30' },
    warmup: { type: 'string', default: '3' },
    'upload-rate': { type: 'string', default: '0' },
  },
});

if (values.help) {
  print('usage: npm run bench:mixed -- [options]; the options are listed in loadtest/bench/README.md');
  process.exit(0);
}

const target = loopbackUrl(values.target);
const users = Math.round(positive('users', values.users));
const durationMs = positive('duration', values.duration) * 1000;
const spreadMs = Number(values.spread) * 1000;
const pauseMs = Number(values.pause) * 1000;
const mix = parseQueryMix(values.queries);
const requests = values.requests.split(',').map((name) => requestSpec(name.trim(), mix));
const tokenCount = Math.round(positive('tokens', values.tokens));
const requestTimeoutMs = positive('timeout', values.timeout) * 1000;
const warmupMs = Number(values.warmup) * 1000;
const uploadRate = Number(values['upload-rate']);

interface RunReport {
  label: string;
  url: string;
  wallSeconds: number;
  iterations: number;
  requests: Record<string, TallySummary>;
  all: TallySummary;
  cache: { hits: number; misses: number };
  cpu: CpuReport;
}

async function measure(label: string, url: URL, processes: ProcessRef[]): Promise<RunReport> {
  const loop = {
    target: url,
    pauseMs,
    requests,
    token: (user: number) => tokenFor(user, { token: values.token, tokenCount }),
    requestTimeoutMs,
  };
  if (warmupMs > 0) {
    // Unrecorded: a cold load generator (JIT, 1000 new connections at once) is slow enough to
    // bunch the users into waves that last the whole run, against any server, the baseline too.
    note(`${label}: warming up for ${warmupMs / 1000} s ...`);
    await runUserLoop({ ...loop, users: Math.min(users, 200), durationMs: warmupMs, spreadMs: 0 });
  }
  note(`${label}: ${users} users against ${url.origin} for ${durationMs / 1000} s ...`);
  const meter = new CpuMeter(processes);
  meter.start();
  // Steady ingest beside the users (the system only: the baseline has no uploads), as k6's
  // upload-query scenario does: each upload indexes a document and so moves the corpus version.
  const uploads = label === 'system' && uploadRate > 0 ? steadyUploads(url, uploadRate) : undefined;
  const result = await runUserLoop({ ...loop, users, durationMs, spreadMs });
  const uploaded = await uploads?.stop();
  if (uploaded !== undefined)
    print(`uploads during the run: ${uploaded.accepted} accepted, ${uploaded.refused} not`);
  const cpu = meter.stop();
  const all = new Tally();
  for (const tally of result.byRequest.values()) all.merge(tally);
  const report: RunReport = {
    label,
    url: url.origin,
    wallSeconds: result.wallSeconds,
    iterations: result.iterations,
    requests: Object.fromEntries([...result.byRequest].map(([name, tally]) => [name, tally.summary()])),
    all: all.summary(),
    cache: result.cache,
    cpu,
  };
  printRun(report);
  return report;
}

/** Uploads a small document `perSecond` times a second until stopped. */
function steadyUploads(
  url: URL,
  perSecond: number,
): { stop(): Promise<{ accepted: number; refused: number }> } {
  const counts = { accepted: 0, refused: 0 };
  const inFlight = new Set<Promise<void>>();
  let sent = 0;
  const timer = setInterval(() => {
    const index = sent++;
    const upload = fetch(new URL('/documents', url), {
      method: 'POST',
      headers: {
        authorization: `Bearer ${tokenFor(0, { token: values.token, tokenCount })}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        title: `Steady upload ${index}`,
        collection: 'bench-uploads',
        content: `Release note ${index}: the export now keeps column widths, and invoices list the tax rate.`,
      }),
    })
      .then(async (response) => {
        await response.arrayBuffer();
        if (response.status === 202) counts.accepted++;
        else counts.refused++;
      })
      .catch(() => void counts.refused++)
      .finally(() => inFlight.delete(upload));
    inFlight.add(upload);
  }, 1000 / perSecond);
  return {
    stop: async () => {
      clearInterval(timer);
      await Promise.all(inFlight);
      return counts;
    },
  };
}

function printRun(report: RunReport): void {
  print(`== ${report.label}: ${report.url}, ${users} users, ${report.wallSeconds.toFixed(1)} s ==`);
  const rows = [
    ...Object.entries(report.requests).map(([name, summary]) => ({ name, summary })),
    { name: 'all', summary: report.all },
  ];
  for (const line of latencyTable(rows, report.wallSeconds)) print(line);
  const { hits, misses } = report.cache;
  if (hits + misses > 0)
    print(`X-Cache: ${hits} HIT, ${misses} MISS (${((hits / (hits + misses)) * 100).toFixed(1)}% hits)`);
  for (const line of cpuLines(report.cpu, report.all.requests)) print(line);
  print();
}

function printComparison(system: RunReport, baseline: RunReport): void {
  const ratio = (a: number, b: number): string => (b > 0 ? `${(a / b).toFixed(2)}x` : '-');
  const perRequest = (run: RunReport): number => run.cpu.serverSeconds / Math.max(1, run.all.requests);
  print('== system vs. baseline (same run, same load) ==');
  print(
    `throughput ${ratio(system.all.requests / system.wallSeconds, baseline.all.requests / baseline.wallSeconds)}`,
  );
  print(
    `p50 ${ratio(system.all.latency.p50, baseline.all.latency.p50)}, p95 ${ratio(system.all.latency.p95, baseline.all.latency.p95)}, p99 ${ratio(system.all.latency.p99, baseline.all.latency.p99)}`,
  );
  print(
    `server CPU per request ${(perRequest(system) * 1e6).toFixed(0)} µs vs ${(perRequest(baseline) * 1e6).toFixed(0)} µs (${ratio(perRequest(system), perRequest(baseline))})`,
  );
}

const baselineServer = values['no-baseline'] ? undefined : await startBaselineServer();
try {
  const system = await measure(
    'system',
    target,
    resolveServerProcesses({ pids: values.pids, pidFile: values['pid-file'] }),
  );
  let baseline: RunReport | undefined;
  if (baselineServer) {
    // Let connections from the first run close and the machine settle.
    await sleep(3_000);
    baseline = await measure('baseline (bare Fastify)', baselineServer.url, [
      { group: 'baseline', pid: baselineServer.pid },
    ]);
    printComparison(system, baseline);
  }
  writeJson(values.json, {
    workload: 'mixed-users',
    users,
    durationMs,
    spreadMs,
    pauseMs,
    warmupMs,
    system,
    baseline,
  });
} finally {
  await baselineServer?.stop();
}
