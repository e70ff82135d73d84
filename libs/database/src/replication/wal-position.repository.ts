import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/**
 * WAL positions as byte offsets (pg_lsn minus '0/0'), exact as JavaScript numbers up to 8 PiB of
 * WAL. The insert position rather than the write position: it already covers every commit made
 * before the call even under `synchronous_commit = off`, as GitLab's replica routing also uses.
 */
export const CURRENT_WAL_LSN_SQL = `SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::int8::text AS lsn`;

/** Reads the primary's WAL position, which writers record with each corpus version (ADR 0014). */
@Injectable()
export class WalPositionRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /** Every change committed before this call lies below the returned position. */
  async current(): Promise<number> {
    const [row] = await this.dataSource.query<{ lsn: string }[]>(CURRENT_WAL_LSN_SQL);
    return Number(row.lsn);
  }
}
