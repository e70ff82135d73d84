import { execFile } from 'node:child_process';
import { chown, mkdtemp, appendFile, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from './test-environment.js';

const run = promisify(execFile);
const PG_BIN = process.env.PG_BIN_DIR ?? '/usr/lib/postgresql/15/bin';
/** This suite's own port range (HELPERS.md): never the shared Postgres. */
const PORT_RANGE = { first: 24_000, last: 24_999 };
/** Postgres refuses to run as root: run its binaries as the postgres user then. */
const AS_POSTGRES = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--'] : [];
/** Generous: the machine is shared and busy. */
const START_TIMEOUT_S = 120;

async function pg(binary: string, args: string[]): Promise<string> {
  const command = [...AS_POSTGRES, join(PG_BIN, binary), ...args];
  const { stdout } = await run(command[0], command.slice(1), { timeout: START_TIMEOUT_S * 1_000 });
  return stdout;
}

async function freePort(taken: number[]): Promise<number> {
  const span = PORT_RANGE.last - PORT_RANGE.first + 1;
  const offset = Math.floor(Math.random() * span);
  for (let i = 0; i < span; i++) {
    const port = PORT_RANGE.first + ((offset + i) % span);
    if (taken.includes(port)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer()
        .once('error', () => resolve(false))
        .listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return port;
  }
  throw new Error(`no free port in ${PORT_RANGE.first}-${PORT_RANGE.last}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** One Postgres server of the pair, stopped by the pid its postmaster wrote. */
class Server {
  pid: number | undefined;

  constructor(
    readonly dataDir: string,
    readonly port: number,
  ) {}

  url(database: string): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  async start(): Promise<void> {
    await pg('pg_ctl', [
      '-D',
      this.dataDir,
      '-l',
      `${this.dataDir}.log`,
      '-w',
      '-t',
      `${START_TIMEOUT_S}`,
      'start',
    ]);
    const pidFile = await readFile(join(this.dataDir, 'postmaster.pid'), 'utf8');
    this.pid = Number(pidFile.split('\n')[0]);
  }

  /** SIGINT is Postgres's fast shutdown: clients are disconnected at once, as when a server goes down. */
  async stop(): Promise<void> {
    const pid = this.pid;
    if (pid === undefined) return;
    this.pid = undefined;
    if (!alive(pid)) return;
    process.kill(pid, 'SIGINT');
    await waitFor(() => Promise.resolve(alive(pid) ? undefined : true), {
      timeoutMs: START_TIMEOUT_S * 1_000,
      what: `postgres ${pid} to stop`,
    });
  }
}

/**
 * A private primary and a streaming replica made from it with `pg_basebackup -R`, on spare ports
 * in this suite's range, in a temporary directory removed by stop().
 */
export class StreamingReplicaPair {
  private constructor(
    private readonly dir: string,
    readonly primary: Server,
    readonly replica: Server,
  ) {}

  static async start(): Promise<StreamingReplicaPair> {
    const dir = await mkdtemp(join(tmpdir(), 'rag-replica-'));
    if (AS_POSTGRES.length > 0) {
      const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim());
      const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim());
      await chown(dir, uid, gid);
    }
    const primaryPort = await freePort([]);
    const replicaPort = await freePort([primaryPort]);
    const pair = new StreamingReplicaPair(
      dir,
      new Server(join(dir, 'primary'), primaryPort),
      new Server(join(dir, 'replica'), replicaPort),
    );
    try {
      await pg('initdb', [
        '-D',
        pair.primary.dataDir,
        '-U',
        'postgres',
        '--auth=trust',
        '-E',
        'UTF8',
        '--locale=C',
        '--no-sync',
      ]);
      // Durability is not under test: fsync off keeps the pair quick on a busy shared disk.
      await appendFile(
        join(pair.primary.dataDir, 'postgresql.conf'),
        [
          `port = ${primaryPort}`,
          `listen_addresses = '127.0.0.1'`,
          `unix_socket_directories = '${dir}'`,
          'wal_level = replica',
          'max_wal_senders = 4',
          'max_connections = 40',
          'shared_buffers = 16MB',
          'fsync = off',
          'hot_standby = on',
          '',
        ].join('\n'),
      );
      await pair.primary.start();
      await pg('pg_basebackup', [
        '-h',
        '127.0.0.1',
        '-p',
        `${primaryPort}`,
        '-U',
        'postgres',
        '-D',
        pair.replica.dataDir,
        '-R',
        '-X',
        'stream',
        '-c',
        'fast',
      ]);
      // The copied configuration names the primary's port; a later line wins.
      await appendFile(join(pair.replica.dataDir, 'postgresql.conf'), `port = ${replicaPort}\n`);
      await pair.replica.start();
      return pair;
    } catch (error) {
      await pair.stop();
      throw error;
    }
  }

  async stop(): Promise<void> {
    await Promise.allSettled([this.replica.stop(), this.primary.stop()]);
    await rm(this.dir, { recursive: true, force: true });
  }
}
