import { writeFileSync } from 'node:fs';
import type { CpuReport } from './cpu.js';
import type { TallySummary } from './stats.js';

/** The benchmark's report goes to stdout; progress notes go to stderr, so stdout stays clean. */
export function print(line = ''): void {
  process.stdout.write(`${line}\n`);
}

export function note(line: string): void {
  process.stderr.write(`${line}\n`);
}

export function table(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) =>
    row
      .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd(),
  );
}

const ms = (value: number): string => value.toFixed(value < 10 ? 2 : 1);

/** One row per kind of request: count, rate, latency percentiles, failures. */
export function latencyTable(
  rows: ReadonlyArray<{ name: string; summary: TallySummary }>,
  seconds: number,
): string[] {
  return table([
    ['request', 'count', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'errors', 'non-2xx'],
    ...rows.map(({ name, summary }) => [
      name,
      String(summary.requests),
      (summary.requests / seconds).toFixed(0),
      ms(summary.latency.p50),
      ms(summary.latency.p95),
      ms(summary.latency.p99),
      ms(summary.latency.max),
      String(summary.errors),
      summary.non2xxTotal === 0
        ? '0'
        : `${summary.non2xxTotal} (${Object.entries(summary.non2xx)
            .map(([status, count]) => `${status}: ${count}`)
            .join(', ')})`,
    ]),
  ]);
}

/** CPU per group, as seconds, share of one core, and microseconds per request. */
export function cpuLines(cpu: CpuReport, requests: number): string[] {
  const perCore = (seconds: number): string => `${((seconds / cpu.wallSeconds) * 100).toFixed(0)}% of a core`;
  const perRequest = (seconds: number): string =>
    requests > 0 ? `${((seconds / requests) * 1e6).toFixed(0)} µs/request` : '-';
  return [
    ...table([
      ['cpu', 'seconds', 'share', 'per request', 'pids'],
      ...cpu.groups.map((group) => [
        group.group,
        group.seconds.toFixed(2),
        perCore(group.seconds),
        perRequest(group.seconds),
        group.pids.length > 6
          ? `${group.pids.slice(0, 6).join(',')},… (${group.pids.length})`
          : group.pids.join(','),
      ]),
      [
        'server total',
        cpu.serverSeconds.toFixed(2),
        perCore(cpu.serverSeconds),
        perRequest(cpu.serverSeconds),
        '',
      ],
      [
        'load generator',
        cpu.loadGeneratorSeconds.toFixed(2),
        perCore(cpu.loadGeneratorSeconds),
        perRequest(cpu.loadGeneratorSeconds),
        String(process.pid),
      ],
    ]),
  ];
}

export function writeJson(path: string | undefined, value: unknown): void {
  if (!path) return;
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
  note(`results written to ${path}`);
}
