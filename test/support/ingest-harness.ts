import type { INestApplicationContext } from '@nestjs/common';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { AppConfig } from '#libs/config';
import type { Job } from 'bullmq';
import {
  DEFAULT_TENANT,
  EventName,
  JobName,
  QueueName,
  type CorpusChangedEvent,
  type DocumentStatus,
  type IngestDocumentPayload,
  type IngestDocumentResult,
} from '#libs/contracts';
import { DocumentsRepository, type DocumentEntity } from '#libs/database';
import { redisOptionsFromUrl } from '#libs/redis';
import { JobProducer } from '#libs/queues';
import { createIngestWorkerApp } from '../../apps/ingest-worker/src/ingest-worker.app.js';
import { IngestReconciler } from '../../apps/ingest-worker/src/ingest/ingest-reconciler.js';
import { newDocument } from './fixtures.js';
import { waitFor } from './test-environment.js';

/**
 * The real ingest worker app running in this process against the test environment, plus the
 * handles the ingest tests need: SQL, the queue, and the `corpus.changed` events heard so far.
 */
export class IngestHarness {
  readonly events: CorpusChangedEvent[] = [];

  private constructor(
    readonly app: INestApplicationContext,
    readonly sql: pg.Client,
    private readonly subscriber: Redis,
  ) {}

  static async start(config: AppConfig): Promise<IngestHarness> {
    const sql = new pg.Client({ connectionString: config.DATABASE_URL });
    await sql.connect();
    // Every status change lands in a log table, so tests see the path a document took, not just where it ended.
    await sql.query(`
      CREATE TABLE test_status_log (
        seq bigserial PRIMARY KEY, document_id uuid, old_status text, new_status text, error text
      );
      CREATE FUNCTION test_log_status() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.status IS DISTINCT FROM OLD.status THEN
          INSERT INTO test_status_log (document_id, old_status, new_status, error)
          VALUES (NEW.id, OLD.status, NEW.status, NEW.error);
        END IF;
        RETURN NEW;
      END $$;
      CREATE TRIGGER test_log_status AFTER UPDATE ON documents FOR EACH ROW EXECUTE FUNCTION test_log_status();`);
    const subscriber = new Redis(redisOptionsFromUrl(config.REDIS_URL));
    const app = await createIngestWorkerApp(config);
    const harness = new IngestHarness(app, sql, subscriber);
    subscriber.on('message', (channel: string, message: string) => {
      const { data } = JSON.parse(message) as { data: CorpusChangedEvent };
      if (channel === EventName.CorpusChanged && data.namespace === config.REDIS_KEY_PREFIX) {
        harness.events.push(data);
      }
    });
    await subscriber.subscribe(EventName.CorpusChanged);
    return harness;
  }

  get documents(): DocumentsRepository {
    return this.app.get(DocumentsRepository, { strict: false });
  }

  get producer(): JobProducer {
    return this.app.get(JobProducer, { strict: false });
  }

  get reconciler(): IngestReconciler {
    return this.app.get(IngestReconciler, { strict: false });
  }

  /** Stores an upload as the gateway does (row and bytes in one transaction), without a job. */
  async store(
    body: Buffer | string,
    mimeType: string,
    metadata: Record<string, unknown> = {},
  ): Promise<string> {
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    const stored = await this.documents.createQueued(
      DEFAULT_TENANT,
      newDocument(bytes, mimeType, { metadata }),
      bytes,
      0,
    );
    if (stored === null) throw new Error('createQueued stored nothing, with no cap set');
    return stored.document.id;
  }

  /** Stores an upload and enqueues its job, as an upload through the gateway does. */
  async upload(
    body: Buffer | string,
    mimeType: string,
    metadata: Record<string, unknown> = {},
  ): Promise<string> {
    const id = await this.store(body, mimeType, metadata);
    await this.producer.enqueue(
      JobName.IngestDocument,
      { tenant: DEFAULT_TENANT, documentId: id, requestId: `req-${id}` },
      { jobId: id },
    );
    return id;
  }

  async waitForStatus(id: string, status: DocumentStatus, timeoutMs = 20_000): Promise<DocumentEntity> {
    let last: DocumentEntity | null = null;
    try {
      return await waitFor(
        async () => {
          last = await this.documents.findById(DEFAULT_TENANT, id);
          return last?.status === status ? last : undefined;
        },
        { timeoutMs, what: `document ${id} to be ${status}` },
      );
    } catch (error) {
      throw new Error(`${(error as Error).message}; last seen ${JSON.stringify(last)}`, { cause: error });
    }
  }

  /**
   * The first `corpus.changed` about the document that matches. Events are recorded from before
   * the first test, so an event published before this is called is found, not missed.
   */
  async waitForEvent(
    documentId: string,
    reason: CorpusChangedEvent['reason'],
    timeoutMs = 20_000,
  ): Promise<CorpusChangedEvent> {
    const find = () => this.events.find((e) => e.documentId === documentId && e.reason === reason);
    try {
      return await waitFor(() => Promise.resolve(find()), {
        timeoutMs,
        what: `corpus.changed (${reason}) for document ${documentId}`,
      });
    } catch (error) {
      // Tell "never published" (the job did not get there) from "not heard".
      const state = await this.producer.queue(QueueName.Ingest).getJobState(documentId);
      const document = await this.documents.findById(DEFAULT_TENANT, documentId);
      throw new Error(
        `${(error as Error).message}; ${this.events.length} events heard, job ${state}, ` +
          `document ${document?.status ?? 'gone'} after ${document?.attempts ?? 0} attempts`,
        { cause: error },
      );
    }
  }

  /** The document's ingest job (job id = document id), typed by the queue contract. */
  async job(id: string): Promise<Job<IngestDocumentPayload, IngestDocumentResult> | undefined> {
    return (await this.producer.queue(QueueName.Ingest).getJob(id)) as
      Job<IngestDocumentPayload, IngestDocumentResult> | undefined;
  }

  async statusPath(id: string): Promise<string[]> {
    const { rows } = await this.sql.query<{ new_status: string }>(
      'SELECT new_status FROM test_status_log WHERE document_id = $1 ORDER BY seq',
      [id],
    );
    return ['queued', ...rows.map((row) => row.new_status)];
  }

  async close(): Promise<void> {
    await this.app.close();
    await this.subscriber.quit();
    await this.sql.end();
  }
}
