import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { resolveServerProcesses, type ProcessRef } from './cpu.js';
import { loopbackUrl } from './loopback.js';
import { note, print, table, writeJson } from './report.js';
import { countBetween, quantileBetween, scrapeAcceptedHistogram } from './server-latency.js';
import { summarizeLatencies } from './stats.js';
import { runUserLoop } from './user-loop.js';
import { parseQueryMix, positive, requestSpec, tokenFor } from './workload.js';
import { LOAD_OPTIONS } from './options.js';

/**
 * Overload (issue 6): the plan's mixed workload at --users (normal), then --overload-users (three
 * times the closed-model capacity) for --duration s, then --users again. Prints, per second, what
 * was answered: accepted (2xx/4xx other than 429), shed (503/429, and whether each carried
 * Retry-After), `GET /health` reporting `unhealthy` (its own 503, a report rather than a shed),
 * failed (other 5xx, or no answer), and the p95 of the accepted; the gateway's resident memory
 * (all its processes); and how long after the overload ended the p95 and the shedding were back
 * to normal. See loadtest/bench/README.md.
 */
const { values } = parseArgs({
  options: {
    ...LOAD_OPTIONS,
    users: { type: 'string', default: '1000' },
    'overload-users': { type: 'string', default: '9000' },
    normal: { type: 'string', default: '15' },
    duration: { type: 'string', default: '30' },
    recovery: { type: 'string', default: '20' },
    spread: { type: 'string', default: '1' },
    pause: { type: 'string', default: '1' },
    queries: { type: 'string', default: 'hot' },
    timeout: { type: 'string', default: '30' },
  },
});

if (values.help) {
  print('usage: npm run bench:overload -- [options]; the options are listed in loadtest/bench/README.md');
  process.exit(0);
}

const target = loopbackUrl(values.target);
const mix = parseQueryMix(values.queries);
const requests = ['health', 'documents', 'query'].map((name) => requestSpec(name, mix));
const tokenCount = Math.round(positive('tokens', values.tokens));
// The gateway's processes (the cluster primary and its workers): their memory must stay bounded.
const processes = resolveServerProcesses({ pids: values.pids, pidFile: values['pid-file'] }).filter(
  ({ group }) => group === 'gateway',
);
if (processes.length === 0) throw new Error('no gateway process found: pass --pids gateway:<pid>');

type Phase = 'normal' | 'overload' | 'recovery';
interface Second {
  phase: Phase;
  second: number;
  accepted: number[];
  shed: number;
  shedWithoutRetryAfter: number;
  unhealthy: number;
  failed: number;
  rssMb: number;
}

const seconds: Second[] = [];
const startedAt = performance.now();
let phase: Phase = 'normal';
let phaseStartedAt = startedAt;

function currentSecond(): Second {
  const second = Math.floor((performance.now() - startedAt) / 1000);
  let entry = seconds[second];
  if (entry === undefined) {
    entry = {
      phase,
      second,
      accepted: [],
      shed: 0,
      shedWithoutRetryAfter: 0,
      unhealthy: 0,
      failed: 0,
      rssMb: 0,
    };
    seconds[second] = entry;
  }
  return entry;
}

/** Resident memory of every server process, summed (VmRSS from /proc). */
function residentMb(refs: readonly ProcessRef[]): number {
  let kb = 0;
  for (const { pid } of refs) {
    try {
      const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      kb += Number(match?.[1] ?? 0);
    } catch {
      // exited: counted by the crash check below
    }
  }
  return kb / 1024;
}

const memorySampler = setInterval(() => {
  const entry = currentSecond();
  entry.rssMb = Math.max(entry.rssMb, residentMb(processes));
}, 250);

const serverView: { phase: Phase; count: number; p50: number; p95: number; p99: number }[] = [];
const loadGeneratorLag: { phase: Phase; p99: number; max: number }[] = [];

async function run(name: Phase, users: number, durationS: number): Promise<void> {
  const before = await scrapeAcceptedHistogram(target, process.env.METRICS_TOKEN);
  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  phase = name;
  phaseStartedAt = performance.now();
  note(`${name}: ${users} users for ${durationS} s ...`);
  await runUserLoop({
    target,
    users,
    durationMs: durationS * 1000,
    spreadMs: Number(values.spread) * 1000,
    pauseMs: Number(values.pause) * 1000,
    requests,
    token: (user) => tokenFor(user, { token: values.token, tokenCount }),
    requestTimeoutMs: positive('timeout', values.timeout) * 1000,
    onAnswer: ({ request, status, latencyMs, retryAfter }) => {
      const entry = currentSecond();
      if (request === 'health' && status === 503 && !retryAfter) entry.unhealthy++;
      else if (status === 503 || status === 429) {
        entry.shed++;
        if (!retryAfter) entry.shedWithoutRetryAfter++;
      } else if (status === 0 || status >= 500) entry.failed++;
      else entry.accepted.push(latencyMs);
    },
  });
  lag.disable();
  loadGeneratorLag.push({ phase: name, p99: lag.percentile(99) / 1e6, max: lag.max / 1e6 });
  const after = await scrapeAcceptedHistogram(target, process.env.METRICS_TOKEN);
  serverView.push({
    phase: name,
    count: countBetween(before, after),
    p50: quantileBetween(before, after, 0.5),
    p95: quantileBetween(before, after, 0.95),
    p99: quantileBetween(before, after, 0.99),
  });
  note(`${name}: done after ${((performance.now() - phaseStartedAt) / 1000).toFixed(1)} s`);
}

const users = Math.round(positive('users', values.users));
const overloadUsers = Math.round(positive('overload-users', values['overload-users']));
const alive = (): boolean =>
  processes.every(({ pid }) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  });

try {
  await run('normal', users, positive('normal', values.normal));
  await run('overload', overloadUsers, positive('duration', values.duration));
  await run('recovery', users, positive('recovery', values.recovery));
} finally {
  clearInterval(memorySampler);
}
await sleep(0);

const filled = seconds.filter((entry): entry is Second => entry !== undefined);
const summarize = (name: Phase) => {
  const entries = filled.filter((entry) => entry.phase === name);
  const accepted = summarizeLatencies(entries.flatMap((entry) => entry.accepted));
  const count = (key: 'shed' | 'shedWithoutRetryAfter' | 'unhealthy' | 'failed') =>
    entries.reduce((sum, entry) => sum + entry[key], 0);
  return {
    phase: name,
    seconds: entries.length,
    acceptedPerSecond: accepted.count / Math.max(1, entries.length),
    accepted,
    shed: count('shed'),
    shedWithoutRetryAfter: count('shedWithoutRetryAfter'),
    unhealthy: count('unhealthy'),
    failed: count('failed'),
    maxRssMb: Math.max(0, ...entries.map((entry) => entry.rssMb)),
  };
};
const phases = (['normal', 'overload', 'recovery'] as const).map(summarize);
const normalP95 = phases[0].accepted.p95;
// Recovered: the first recovery second from which no second sheds or fails and the p95 of the
// accepted stays within 2x of the normal phase's.
const recoverySeconds = filled.filter((entry) => entry.phase === 'recovery');
const firstGood = recoverySeconds.findIndex((_, index) =>
  recoverySeconds
    .slice(index)
    .every(
      (entry) =>
        entry.shed === 0 &&
        entry.failed === 0 &&
        summarizeLatencies(entry.accepted).p95 <= Math.max(2 * normalP95, 1),
    ),
);

print(`== overload: ${users} users, then ${overloadUsers}, then ${users}; ${target.origin} ==`);
for (const line of table([
  [
    'phase',
    's',
    'accepted/s',
    'p50 ms',
    'p95 ms',
    'p99 ms',
    'shed',
    'no Retry-After',
    'unhealthy',
    'failed',
    'gateway RSS MB',
  ],
  ...phases.map((entry) => [
    entry.phase,
    String(entry.seconds),
    entry.acceptedPerSecond.toFixed(0),
    entry.accepted.p50.toFixed(1),
    entry.accepted.p95.toFixed(1),
    entry.accepted.p99.toFixed(1),
    String(entry.shed),
    String(entry.shedWithoutRetryAfter),
    String(entry.unhealthy),
    String(entry.failed),
    entry.maxRssMb.toFixed(0),
  ]),
]))
  print(line);
print(
  `overload p95 / normal p95: ${(phases[1].accepted.p95 / Math.max(normalP95, 1e-9)).toFixed(2)}x; ` +
    (firstGood === -1
      ? 'not back to normal within the recovery phase'
      : `back to normal ${firstGood} s after the overload ended`) +
    `; gateway processes ${alive() ? 'all alive' : 'NOT all alive (one crashed)'}`,
);
print();
print(
  "the gateway's own view of its 2xx answers (http_request_duration_seconds), and the load generator's event-loop lag:",
);
for (const line of table([
  ['phase', '2xx', 'server p50 ms', 'server p95 ms', 'server p99 ms', 'generator lag p99 ms', 'max ms'],
  ...serverView.map((view, index) => [
    view.phase,
    String(view.count),
    view.p50.toFixed(1),
    view.p95.toFixed(1),
    view.p99.toFixed(1),
    (loadGeneratorLag[index]?.p99 ?? 0).toFixed(0),
    (loadGeneratorLag[index]?.max ?? 0).toFixed(0),
  ]),
]))
  print(line);
print();
print('per second: phase, accepted, p95 ms, shed, failed, RSS MB');
for (const entry of filled)
  print(
    `${String(entry.second).padStart(3)} ${entry.phase.padEnd(8)} ${String(entry.accepted.length).padStart(6)} ` +
      `${summarizeLatencies(entry.accepted).p95.toFixed(1).padStart(8)} ${String(entry.shed).padStart(6)} ` +
      `${String(entry.failed).padStart(6)} ${entry.rssMb.toFixed(0).padStart(6)}`,
  );
writeJson(values.json, {
  serverView,
  loadGeneratorLag,
  workload: 'overload',
  users,
  overloadUsers,
  phases,
  recoveredAfterS: firstGood,
  seconds: filled,
});
