import { execFile } from 'node:child_process';
import { appendFile, chown, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { isRunning } from './pid.js';
import { waitFor } from './test-environment.js';

const run = promisify(execFile);
const PG_BIN = process.env.PG_BIN_DIR ?? '/usr/lib/postgresql/15/bin';
/** Postgres refuses to run as root: run its binaries as the postgres user then. */
const AS_POSTGRES = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : [];
/** Generous: the machine is shared and busy. */
const TIMEOUT_S = 120;

/** Runs one of Postgres's programs (initdb, pg_ctl, pg_basebackup), as the postgres user when we are root. */
export async function pgBinary(binary: string, args: string[]): Promise<void> {
  const command = [...AS_POSTGRES, join(PG_BIN, binary), ...args];
  await run(command[0], command.slice(1), { timeout: TIMEOUT_S * 1_000 });
}

/** A temporary directory the postgres user may write to, for data directories and sockets. */
export async function postgresTempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  if (AS_POSTGRES.length > 0) {
    const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
    const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
    await chown(dir, uid, gid);
  }
  return dir;
}

/**
 * A Postgres server of a test's own, never the shared one: `initCluster` makes its data
 * directory, `start` runs it, `stop` stops it by the pid its postmaster wrote.
 */
export class PostgresServer {
  /** The postmaster's pid while it runs. */
  pid: number | undefined;

  constructor(
    readonly dataDir: string,
    readonly port: number,
    private readonly logFile: string,
  ) {}

  url(database = 'rag'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /**
   * initdb with trust authentication, then the settings every test server shares (this port,
   * 127.0.0.1 only, sockets in `socketDir`, fsync off: durability is not under test) and `extra`.
   */
  async initCluster(socketDir: string, extra: readonly string[]): Promise<void> {
    await pgBinary('initdb', [
      '-D',
      this.dataDir,
      '-U',
      'postgres',
      '--auth=trust',
      '-E',
      'UTF8',
      '--locale=C',
      '--no-sync',
    ]);
    await appendFile(
      join(this.dataDir, 'postgresql.conf'),
      [
        `port = ${this.port}`,
        `listen_addresses = '127.0.0.1'`,
        `unix_socket_directories = '${socketDir}'`,
        'shared_buffers = 16MB',
        'fsync = off',
        ...extra,
        '',
      ].join('\n'),
    );
  }

  async start(): Promise<void> {
    if (this.pid !== undefined) throw new Error('postgres is already running');
    await pgBinary('pg_ctl', ['-D', this.dataDir, '-l', this.logFile, '-w', '-t', `${TIMEOUT_S}`, 'start']);
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
    if (!isRunning(pid)) return;
    process.kill(pid, 'SIGINT');
    await waitFor(() => Promise.resolve(isRunning(pid) ? undefined : true), {
      timeoutMs: TIMEOUT_S * 1_000,
      what: `postgres ${pid} to stop`,
    });
  }
}
