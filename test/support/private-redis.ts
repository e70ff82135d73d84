import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { sparePort } from './spare-port.js';
import { waitFor } from './test-environment.js';

/**
 * A redis-server of the test's own, on a spare port, that a fault test may stop and start again:
 * never the shared one. Its append-only file (fsync on every write) lets a restart bring the data
 * back, as a production Redis with persistence would; `start({ empty: true })` wipes it first, as a
 * Redis without persistence comes back.
 */
export class PrivateRedis {
  private process: ChildProcess | undefined;

  private constructor(
    private readonly dir: string,
    readonly port: number,
  ) {}

  static async start(): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await mkdtemp(join(tmpdir(), 'rag-fault-redis-')), await sparePort());
    await redis.start();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  async start({ empty = false } = {}): Promise<void> {
    if (this.process !== undefined) throw new Error('redis-server is already running');
    if (empty) {
      for (const entry of await readdir(this.dir)) await rm(join(this.dir, entry), { recursive: true });
    }
    const child = spawn(
      'redis-server',
      [
        '--port',
        `${this.port}`,
        '--bind',
        '127.0.0.1',
        '--dir',
        this.dir,
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        // BullMQ's requirement; a test must never lose a job to eviction.
        '--maxmemory-policy',
        'noeviction',
        '--loglevel',
        'warning',
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    this.process = child;
    child.once('exit', () => {
      if (this.process === child) this.process = undefined;
    });
    await waitFor(() => this.ping(), { timeoutMs: 30_000, what: `redis-server on ${this.port}` });
  }

  /** SIGKILL, as a crash: clients see their connections reset and new ones refused. */
  async stop(): Promise<void> {
    const child = this.process;
    if (child === undefined) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.process = undefined;
  }

  /**
   * SIGSTOP: the server hangs with every connection open, as a Redis stuck in a slow command or
   * behind a network partition does: commands are neither answered nor refused.
   */
  pause(): void {
    this.process?.kill('SIGSTOP');
  }

  resume(): void {
    this.process?.kill('SIGCONT');
  }

  /** Stops the server and removes its files; for `after` hooks, safe to call twice. */
  async destroy(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }

  private async ping(): Promise<true | undefined> {
    const client = new Redis({
      port: this.port,
      host: '127.0.0.1',
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return (await client.ping()) === 'PONG' ? true : undefined;
    } catch {
      return undefined;
    } finally {
      client.disconnect();
    }
  }
}
