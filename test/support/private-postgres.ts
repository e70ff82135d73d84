import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import pg from 'pg';
import { isRunning } from './pid.js';
import { PostgresServer, postgresTempDir } from './postgres-server.js';
import { sparePort } from './spare-port.js';

/**
 * A Postgres cluster of the test's own (initdb in a temporary directory, a spare port) that a
 * fault test may stop and start again: never the shared server.
 */
export class PrivatePostgres extends PostgresServer {
  private constructor(
    private readonly dir: string,
    port: number,
  ) {
    super(join(dir, 'data'), port, join(dir, 'log'));
  }

  static async start(): Promise<PrivatePostgres> {
    const dir = await postgresTempDir('rag-fault-pg-');
    const server = new PrivatePostgres(dir, await sparePort());
    try {
      await server.initCluster(dir, [
        'max_connections = 60',
        'synchronous_commit = off',
        'full_page_writes = off',
      ]);
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

  /** Stops the server and removes its files; for `after` hooks, safe to call twice. */
  async destroy(): Promise<void> {
    await this.stop().catch(() => {
      if (this.pid !== undefined && isRunning(this.pid)) process.kill(this.pid, 'SIGKILL');
    });
    await rm(this.dir, { recursive: true, force: true });
  }
}
