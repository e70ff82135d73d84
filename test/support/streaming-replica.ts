import { appendFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { pgBinary, PostgresServer, postgresTempDir } from './postgres-server.js';
import { sparePort } from './spare-port.js';

/** This suite's own port range (HELPERS.md): never the shared Postgres. */
const PORT_RANGE = { first: 24_000, last: 24_999 };

/**
 * A private primary and a streaming replica made from it with `pg_basebackup -R`, on spare ports
 * in this suite's range, in a temporary directory removed by stop().
 */
export class StreamingReplicaPair {
  private constructor(
    private readonly dir: string,
    readonly primary: PostgresServer,
    readonly replica: PostgresServer,
  ) {}

  static async start(): Promise<StreamingReplicaPair> {
    const dir = await postgresTempDir('rag-replica-');
    const primaryPort = await sparePort(PORT_RANGE);
    const replicaPort = await sparePort(PORT_RANGE);
    const server = (name: string, port: number) =>
      new PostgresServer(join(dir, name), port, join(dir, `${name}.log`));
    const pair = new StreamingReplicaPair(
      dir,
      server('primary', primaryPort),
      server('replica', replicaPort),
    );
    try {
      await pair.primary.initCluster(dir, [
        'wal_level = replica',
        'max_wal_senders = 4',
        'max_connections = 40',
        'hot_standby = on',
      ]);
      await pair.primary.start();
      await pgBinary('pg_basebackup', [
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
