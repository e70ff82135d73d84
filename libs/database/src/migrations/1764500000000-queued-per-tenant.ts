import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Each upload counts its tenant's queued documents (INGEST_MAX_QUEUED_PER_TENANT). This partial
 * index holds only queued rows, so the count reads at most the cap's worth of small entries
 * however large the tenant's corpus is.
 */
export class QueuedPerTenant1764500000000 implements MigrationInterface {
  name = 'QueuedPerTenant1764500000000';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE INDEX documents_queued_tenant_idx ON documents (tenant) WHERE status = 'queued'`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`DROP INDEX documents_queued_tenant_idx`);
  }
}
