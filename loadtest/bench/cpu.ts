import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** A server process whose CPU time a benchmark reports, under a group name such as "gateway". */
export interface ProcessRef {
  group: string;
  pid: number;
}

export interface GroupCpu {
  group: string;
  pids: number[];
  /** user + system CPU seconds spent during the measured window. */
  seconds: number;
}

export interface CpuReport {
  wallSeconds: number;
  groups: GroupCpu[];
  serverSeconds: number;
  /** CPU of this process (the load generator) during the window. */
  loadGeneratorSeconds: number;
}

/** Command-line patterns of the processes that make up the system under test. */
export const DEFAULT_PROCESS_GROUPS: ReadonlyArray<{ group: string; pattern: RegExp }> = [
  { group: 'gateway', pattern: /dist\/apps\/gateway\// },
  { group: 'ingest-worker', pattern: /dist\/apps\/ingest-worker\// },
  { group: 'query-worker', pattern: /dist\/apps\/query-worker\// },
  { group: 'nginx', pattern: /^nginx: / },
  { group: 'redis', pattern: /^(\S*\/)?redis-server\b/ },
  { group: 'postgres', pattern: /^(\S*\/)?postgres(:| |$)/ },
];

let clockTicks: number | undefined;

/** USER_HZ, the unit of utime and stime in /proc/<pid>/stat (100 on every common Linux). */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

interface ProcStat {
  ppid: number;
  cpuSeconds: number;
}

function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may hold spaces: split after the last ')'.
  // The rest starts at field 3 (state); ppid is field 4, utime 14, stime 15.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const ppid = Number(fields[1]);
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return { ppid, cpuSeconds: (utime + stime) / ticksPerSecond() };
}

function listPids(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number);
}

function readCommandLine(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return undefined;
  }
}

/** Finds the running processes of the system under test by their command lines. */
export function discoverProcesses(groups = DEFAULT_PROCESS_GROUPS): ProcessRef[] {
  const found: ProcessRef[] = [];
  for (const pid of listPids()) {
    if (pid === process.pid) continue;
    const commandLine = readCommandLine(pid);
    if (!commandLine) continue;
    const match = groups.find(({ pattern }) => pattern.test(commandLine));
    if (match) found.push({ group: match.group, pid });
  }
  return found;
}

/** Reads "group pid" lines, as written by loadtest/local-topology.sh. */
export function readPidFile(path: string): ProcessRef[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter((parts): parts is [string, string] => parts.length === 2 && /^\d+$/.test(parts[1] ?? ''))
    .map(([group, pid]) => ({ group, pid: Number(pid) }));
}

/** Parses "--pids 123,456" or "--pids gateway:123,nginx:456". */
export function parsePidList(value: string): ProcessRef[] {
  return value
    .split(',')
    .filter((item) => item.trim() !== '')
    .map((item) => {
      const [group, pid] = item.includes(':') ? item.split(':') : ['server', item];
      const parsed = Number(pid);
      if (!group || !Number.isInteger(parsed) || parsed <= 0) throw new Error(`bad pid "${item}" in --pids`);
      return { group, pid: parsed };
    });
}

/** Adds every descendant (node:cluster workers, nginx workers) under its ancestor's group. */
export function withDescendants(refs: readonly ProcessRef[]): ProcessRef[] {
  const parentOf = new Map<number, number>();
  for (const pid of listPids()) {
    const stat = readStat(pid);
    if (stat) parentOf.set(pid, stat.ppid);
  }
  const groupOf = new Map(refs.map((ref) => [ref.pid, ref.group]));
  for (const pid of parentOf.keys()) {
    if (groupOf.has(pid)) continue;
    for (
      let ancestor = parentOf.get(pid);
      ancestor !== undefined && ancestor > 1;
      ancestor = parentOf.get(ancestor)
    ) {
      const group = groupOf.get(ancestor);
      if (group !== undefined) {
        groupOf.set(pid, group);
        break;
      }
    }
  }
  return [...groupOf].map(([pid, group]) => ({ group, pid }));
}

/**
 * CPU time of a set of processes (from /proc/<pid>/stat) and of this process over a window.
 * A process that exits inside the window loses its share; one that starts inside it is not seen.
 */
export class CpuMeter {
  private startWall = 0;
  private startUsage: NodeJS.CpuUsage = { user: 0, system: 0 };
  private readonly startSeconds = new Map<number, number>();

  constructor(private readonly processes: readonly ProcessRef[]) {}

  start(): void {
    this.startSeconds.clear();
    for (const { pid } of this.processes) {
      const stat = readStat(pid);
      if (stat) this.startSeconds.set(pid, stat.cpuSeconds);
    }
    this.startUsage = process.cpuUsage();
    this.startWall = performance.now();
  }

  stop(): CpuReport {
    const wallSeconds = (performance.now() - this.startWall) / 1000;
    const usage = process.cpuUsage(this.startUsage);
    const groups = new Map<string, GroupCpu>();
    for (const { group, pid } of this.processes) {
      const before = this.startSeconds.get(pid);
      const after = readStat(pid)?.cpuSeconds;
      const entry = groups.get(group) ?? { group, pids: [], seconds: 0 };
      entry.pids.push(pid);
      if (before !== undefined && after !== undefined) entry.seconds += after - before;
      groups.set(group, entry);
    }
    const list = [...groups.values()];
    return {
      wallSeconds,
      groups: list,
      serverSeconds: list.reduce((sum, group) => sum + group.seconds, 0),
      loadGeneratorSeconds: (usage.user + usage.system) / 1e6,
    };
  }
}

/** The processes to measure: an explicit list or pid file when given, else discovery by command line. */
export function resolveServerProcesses(options: { pids?: string; pidFile?: string }): ProcessRef[] {
  const explicit = [
    ...(options.pids ? parsePidList(options.pids) : []),
    ...(options.pidFile ? readPidFile(options.pidFile) : []),
  ];
  return withDescendants(explicit.length > 0 ? explicit : discoverProcesses());
}
