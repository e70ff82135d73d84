import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { startBaselineServer } from './baseline.js';
import { CpuMeter, resolveServerProcesses, type CpuReport, type ProcessRef } from './cpu.js';
import { loopbackUrl } from './loopback.js';
import { cpuLines, latencyTable, note, print, writeJson } from './report.js';
import { Tally, type TallySummary } from './stats.js';
import { parseQueryMix, positive, requestSpec, tokenFor, type RequestSpec } from './workload.js';
import { LOAD_OPTIONS } from './options.js';

/**
 * Throughput at a fixed number of connections (autocannon, each connection sending its next
 * request as soon as the last is answered): by default POST /query with one repeated question,
 * i.e. the cache-hit path; then the same against a bare Fastify baseline in the same run.
 */
const { values } = parseArgs({
  options: {
    ...LOAD_OPTIONS,
    request: { type: 'string', default: 'query' },
    queries: { type: 'string', default: 'hot' },
    connections: { type: 'string', default: '100' },
    duration: { type: 'string', default: '10' },
    warmup: { type: 'string', default: '2' },
    timeout: { type: 'string', default: '10' },
  },
});

if (values.help) {
  print('usage: npm run bench:query -- [options]; the options are listed in loadtest/bench/README.md');
  process.exit(0);
}

const target = loopbackUrl(values.target);
const spec: RequestSpec = requestSpec(values.request, parseQueryMix(values.queries));
const connections = Math.round(positive('connections', values.connections));
const durationS = positive('duration', values.duration);
const warmupS = Number(values.warmup);
const tokenCount = Math.round(positive('tokens', values.tokens));
const timeoutS = positive('timeout', values.timeout);

interface RunReport {
  label: string;
  url: string;
  seconds: number;
  summary: TallySummary;
  cpu: CpuReport;
}

/** One autocannon run; connection i sends the token of k6's user i; with --queries unique every body differs. */
async function fire(url: URL, seconds: number, tally?: Tally): Promise<number> {
  let client = 0;
  let sent = 0;
  const body = spec.body;
  const instance = autocannon({
    url: url.origin,
    connections,
    duration: seconds,
    timeout: timeoutS,
    // Each connection gets its own request object: autocannon shares the `requests` option
    // between connections, so per-connection headers set on it would leak into the others.
    setupClient: (connection) => {
      const headers: Record<string, string> = {
        authorization: `Bearer ${tokenFor(client, { token: values.token, tokenCount })}`,
      };
      client += 1;
      if (body) headers['content-type'] = 'application/json';
      connection.setRequests([
        {
          method: spec.method,
          path: spec.path,
          headers,
          ...(body && { setupRequest: (request) => ({ ...request, body: body(0, (sent += 1)) }) }),
        },
      ]);
    },
  });
  if (tally)
    instance.on('response', (_client, status, _bytes, responseTime) => tally.record(status, responseTime));
  const result = await instance;
  if (tally) for (let i = 0; i < result.errors; i += 1) tally.recordError();
  return result.duration;
}

async function measure(label: string, url: URL, processes: ProcessRef[]): Promise<RunReport> {
  if (warmupS > 0) {
    note(`${label}: warming up for ${warmupS} s ...`);
    await fire(url, warmupS);
  }
  note(`${label}: ${connections} connections, ${spec.method} ${spec.path}, ${durationS} s ...`);
  const tally = new Tally();
  const meter = new CpuMeter(processes);
  meter.start();
  const seconds = await fire(url, durationS, tally);
  const cpu = meter.stop();
  const report: RunReport = { label, url: url.origin, seconds, summary: tally.summary(), cpu };
  print(
    `== ${label}: ${url.origin} ${spec.method} ${spec.path}, ${connections} connections, ${seconds.toFixed(1)} s ==`,
  );
  for (const line of latencyTable([{ name: spec.name, summary: report.summary }], seconds)) print(line);
  for (const line of cpuLines(cpu, report.summary.requests)) print(line);
  print();
  return report;
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
    await sleep(2_000);
    baseline = await measure('baseline (bare Fastify)', baselineServer.url, [
      { group: 'baseline', pid: baselineServer.pid },
    ]);
    const rate = (run: RunReport): number => run.summary.requests / run.seconds;
    const cpuPerRequest = (run: RunReport): number =>
      (run.cpu.serverSeconds / Math.max(1, run.summary.requests)) * 1e6;
    print('== system vs. baseline (same run, same load) ==');
    print(
      `throughput ${(rate(system) / rate(baseline)).toFixed(2)}x, p95 ${(system.summary.latency.p95 / Math.max(1e-9, baseline.summary.latency.p95)).toFixed(2)}x`,
    );
    print(
      `server CPU per request ${cpuPerRequest(system).toFixed(0)} µs vs ${cpuPerRequest(baseline).toFixed(0)} µs`,
    );
  }
  writeJson(values.json, {
    workload: 'query-throughput',
    request: spec.name,
    connections,
    durationS,
    system,
    baseline,
  });
} finally {
  await baselineServer?.stop();
}
