import { execFile } from 'node:child_process';
import { appendFile, chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { sparePort } from './spare-port.js';
import { waitFor } from './test-environment.js';

const run = promisify(execFile);
const PG_BIN = process.env.PG_BIN_DIR ?? '/usr/lib/postgresql/15/bin';
/** Postgres refuses to run as root: run its binaries as the postgres user then. */
const AS_POSTGRES = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : [];
/** Generous: the machine is shared and busy. */
const TIMEOUT_S = 120;

async function pgBinary(binary: string, args: string[]): Promise<void> {
  const command = [...AS_POSTGRES, join(PG_BIN, binary), ...args];
  await run(command[0], command.slice(1), { timeout: TIMEOUT_S * 1_000 });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * A Postgres cluster of the test's own (initdb in a temporary directory, a spare port) that a
 * fault test may stop and start again: never the shared server.
 */
export class PrivatePostgres {
  /** The postmaster's pid while it runs. */
  pid: number | undefined;

  private constructor(
    private readonly dir: string,
    readonly port: number,
  ) {}

  static async start(): Promise<PrivatePostgres> {
    const dir = await mkdtemp(join(tmpdir(), 'rag-fault-pg-'));
    if (AS_POSTGRES.length > 0) {
      const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
      const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
      await chown(dir, uid, gid);
    }
    const server = new PrivatePostgres(dir, await sparePort());
    try {
      await pgBinary('initdb', [
        '-D',
        server.dataDir,
        '-U',
        'postgres',
        '--auth=trust',
        '-E',
        'UTF8',
        '--locale=C',
        '--no-sync',
      ]);
      // Durability is not under test: fsync off keeps it quick on a busy shared disk.
      await appendFile(
        join(server.dataDir, 'postgresql.conf'),
        [
          `port = ${server.port}`,
          `listen_addresses = '127.0.0.1'`,
          `unix_socket_directories = '${dir}'`,
          'max_connections = 60',
          'shared_buffers = 16MB',
          'fsync = off',
          'synchronous_commit = off',
          'full_page_writes = off',
          '',
        ].join('\n'),
      );
      await server.start();
      const admin = new pg.Client({ connectionString: server.url('postgres') });
      await admin.connect();
      await admin.query('CREATE DATABASE rag');
      await admin.end();
      return server;
    } catch (error) {
      await server.destroy();
      throw error;
    }
  }

  private get dataDir(): string {
    return join(this.dir, 'data');
  }

  url(database = 'rag'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  async start(): Promise<void> {
    if (this.pid !== undefined) throw new Error('postgres is already running');
    await pgBinary('pg_ctl', [
      '-D',
      this.dataDir,
      '-l',
      join(this.dir, 'log'),
      '-w',
      '-t',
      `${TIMEOUT_S}`,
      'start',
    ]);
    const pidFile = await readFile(join(this.dataDir, 'postmaster.pid'), 'utf8');
    this.pid = Number(pidFile.split('\n')[0]);
  }

  /**
   * SIGINT is Postgres's fast shutdown: every client is disconnected at once and new connections
   * are refused, as when the server goes down (without making it run crash recovery afterwards).
   */
  async stop(): Promise<void> {
    const pid = this.pid;
    if (pid === undefined) return;
    this.pid = undefined;
    if (!alive(pid)) return;
    process.kill(pid, 'SIGINT');
    await waitFor(() => Promise.resolve(alive(pid) ? undefined : true), {
      timeoutMs: TIMEOUT_S * 1_000,
      what: `postgres ${pid} to stop`,
    });
  }

  /** Stops the server and removes its files; for `after` hooks, safe to call twice. */
  async destroy(): Promise<void> {
    await this.stop().catch(() => {
      if (this.pid !== undefined && alive(this.pid)) process.kill(this.pid, 'SIGKILL');
    });
    await rm(this.dir, { recursive: true, force: true });
  }
}
