import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { waitFor } from './test-environment.js';

/** The compiled apps (`npm run build` / `tsc -p tsconfig.json` puts them beside dist/test). */
const MAINS = {
  gateway: '../../apps/gateway/src/main.js',
  'ingest-worker': '../../apps/ingest-worker/src/main.js',
  'query-worker': '../../apps/query-worker/src/main.js',
} as const;

export type AppName = keyof typeof MAINS;

/** Lines of output kept per process: enough to explain a failure, bounded for long runs. */
const KEPT_LINES = 2_000;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * One app as its own process (`node dist/apps/<app>/src/main.js`), configured only by the given
 * environment, so a fault test can signal or kill it like an orchestrator would. Its output is
 * kept (the last lines) for the test to search and to print when something fails.
 */
export class AppProcess {
  private readonly lines: string[] = [];
  private readonly exited: Promise<Exit>;
  private exit: Exit | undefined;

  private constructor(
    readonly name: AppName,
    private readonly child: ChildProcess,
    /** The port answering /health/live: the gateway's PORT or a worker's WORKER_HTTP_PORT. */
    readonly httpPort: number,
  ) {
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      }),
    );
    for (const stream of [child.stdout, child.stderr]) {
      let partial = '';
      stream?.setEncoding('utf8').on('data', (data: string) => {
        const parts = (partial + data).split('\n');
        partial = parts.pop() ?? '';
        this.lines.push(...parts);
        if (this.lines.length > KEPT_LINES) this.lines.splice(0, this.lines.length - KEPT_LINES);
      });
    }
  }

  /**
   * Starts the app and waits until its /health/live answers. `env` is the whole configuration
   * (plus PATH): nothing leaks in from the test's own environment.
   */
  static async start(name: AppName, env: Record<string, string>, httpPort: number): Promise<AppProcess> {
    const child = spawn(process.execPath, [fileURLToPath(new URL(MAINS[name], import.meta.url))], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const app = new AppProcess(name, child, httpPort);
    try {
      await waitFor(
        async () => {
          if (app.exit !== undefined)
            throw new Error(`${name} exited during start-up: ${JSON.stringify(app.exit)}`);
          return (await app.live()) ? true : undefined;
        },
        { timeoutMs: 90_000, intervalMs: 200, what: `${name} to answer /health/live` },
      );
    } catch (error) {
      await app.kill();
      throw new Error(`${(error as Error).message}\n${app.tail()}`, { cause: error });
    }
    return app;
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`${this.name} has no pid`);
    return this.child.pid;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  get baseUrl(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  /** The pids of this process's children (a node:cluster primary's gateway workers). */
  async childPids(): Promise<number[]> {
    const text = await readFile(`/proc/${this.pid}/task/${this.pid}/children`, 'utf8').catch(() => '');
    return text
      .split(/\s+/)
      .filter((pid) => pid !== '')
      .map(Number);
  }

  async live(): Promise<boolean> {
    try {
      const response = await fetch(`${this.baseUrl}/health/live`, { signal: AbortSignal.timeout(2_000) });
      await response.body?.cancel();
      return response.status === 200;
    } catch {
      return false;
    }
  }

  /** GET /health: the status and the report. */
  async health(): Promise<{
    status: number;
    body: { status: string; checks: Record<string, { ok: boolean }> };
  }> {
    const response = await fetch(`${this.baseUrl}/health`, { signal: AbortSignal.timeout(5_000) });
    return { status: response.status, body: (await response.json()) as never };
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) this.child.kill(signal);
  }

  /** Resolves with how the process ended, or undefined if it still runs after `timeoutMs`. */
  async waitForExit(timeoutMs: number): Promise<Exit | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>(
      (resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs)),
    );
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`; returns how it ended. */
  async stop(graceMs = 30_000): Promise<Exit> {
    this.signal('SIGTERM');
    const exit = await this.waitForExit(graceMs);
    if (exit !== undefined) return exit;
    await this.kill();
    return this.exited;
  }

  /** SIGKILL to the process (and, for a cluster primary, its workers): for `after` hooks. */
  async kill(): Promise<void> {
    if (!this.running) return;
    const children = await this.childPids();
    this.child.kill('SIGKILL');
    for (const pid of children) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await this.exited;
  }

  /** Output lines matching `pattern`. */
  grep(pattern: RegExp): string[] {
    return this.lines.filter((line) => pattern.test(line));
  }

  /** The last lines of output, for a failure message. */
  tail(count = 40): string {
    return `--- last ${count} lines of ${this.name} (pid ${this.child.pid}) ---\n${this.lines.slice(-count).join('\n')}`;
  }
}
