import pg from 'pg';
import { SearchRepository } from '../repositories/search.repository.js';

export interface ReadReplicaSettings {
  poolSize: number;
  applicationName: string;
  /** Errors of idle pooled connections (a replica restarting): reported, never thrown. */
  onIdleError: (error: Error) => void;
}

/*
 * How far this server has replayed the primary's WAL. A server that is not in recovery (a replica
 * URL that points at the primary itself, or a promoted replica) is as current as its own WAL.
 */
const REPLAYED_LSN_SQL = `
  SELECT (COALESCE(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()
                        ELSE pg_current_wal_insert_lsn() END, '0/0') - '0/0'::pg_lsn)::int8::text AS lsn`;

/**
 * A down or unreachable replica should cost a query little: the caller falls back to another
 * source, so waiting the primary pool's 5 s for a connection would only add latency.
 */
const CONNECT_TIMEOUT_MS = 1_000;

/** One streaming replica: its own small pool, the search statements on it, and its replay position. */
export class ReadReplica {
  /** host:port/database, without credentials: for logs. */
  readonly name: string;
  readonly search: SearchRepository;
  private readonly pool: pg.Pool;

  constructor(url: string, settings: ReadReplicaSettings) {
    const parsed = new URL(url);
    this.name = `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
    this.pool = new pg.Pool({
      connectionString: url,
      max: settings.poolSize,
      application_name: settings.applicationName,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      idleTimeoutMillis: 30_000,
    });
    this.pool.on('error', settings.onIdleError);
    this.search = new SearchRepository(this.pool);
  }

  /** The WAL position this replica has replayed, in bytes (comparable with WalPositionRepository). */
  async replayedLsn(): Promise<number> {
    const result = await this.pool.query<{ lsn: string }>({
      name: 'replica_replayed_lsn',
      text: REPLAYED_LSN_SQL,
    });
    return Number(result.rows[0].lsn);
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
