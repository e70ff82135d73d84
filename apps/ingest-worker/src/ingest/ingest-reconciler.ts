import {
  Inject,
  Injectable,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { JobState } from 'bullmq';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { JobName, QueueName, type TenantId } from '#libs/contracts';
import { CorpusEvents } from '#libs/corpus';
import { DocumentsRepository, type StalePendingDocument, type UnpublishedDocument } from '#libs/database';
import type { Logger } from '#libs/observability';
import { JobProducer } from '#libs/queues';
import { IndexPublisher } from './index-publisher.js';
import { INGEST_LOGGER } from './ingest-logger.js';

/**
 * How long a queued or processing document must sit unchanged before its job is checked. Long
 * enough for the gateway to enqueue after committing the row; progress updates keep a running
 * job's document fresh.
 */
export const DEFAULT_STALE_AFTER_MS = 10_000;
const PAGE_SIZE = 500;
const SHUTDOWN_WAIT_MS = 5_000;
/** A job in one of these states will still run (or is running): its document needs nothing. */
const LIVE_JOB_STATES: ReadonlySet<JobState | 'unknown'> = new Set([
  'waiting',
  'delayed',
  'active',
  'prioritized',
  'waiting-children',
]);

export interface ReconcileReport {
  /** Documents written but left unpublished (their worker died or could not publish) and now published. */
  published: string[];
  /** Documents whose job was missing (or finished without indexing them) and that got a new one. */
  requeued: string[];
  /** Documents whose job had failed for good without the worker recording it (crash, database down). */
  failed: string[];
}

/**
 * Guarantees that an accepted upload is never lost: Redis keeps nothing on disk here, and a gateway
 * may die between committing the row and enqueueing its job. Every RECONCILE_INTERVAL_MS it finds
 * documents still `queued`/`processing` whose job is gone and enqueues it again (job id = document
 * id). Replicas may run this at once: each document is claimed with a compare-and-set in Postgres,
 * and a duplicate job id is ignored by BullMQ anyway.
 *
 * It also publishes documents whose chunks were written but whose worker died (or could not
 * reach Redis) before publishing them (ADR 0030): on startup, whatever is waiting, and on each
 * pass, what has waited longer than the staleness bound. Two publishers of one document cost
 * one extra version bump, nothing else: `markIndexed` changes only a document still waiting.
 */
@Injectable()
export class IngestReconciler implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private timer: NodeJS.Timeout | undefined;
  private readonly inFlight = new Set<Promise<unknown>>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly documents: DocumentsRepository,
    private readonly producer: JobProducer,
    private readonly corpusEvents: CorpusEvents,
    private readonly publisher: IndexPublisher,
    @Inject(INGEST_LOGGER) private readonly logger: Logger,
  ) {}

  onApplicationBootstrap(): void {
    this.timer = setInterval(() => this.tick(), this.config.RECONCILE_INTERVAL_MS).unref();
    // A worker that restarts after a crash publishes what it (or another) wrote and left
    // unpublished, instead of leaving it for the first pass.
    const startup = this.publishUnpublished(0, []).then(
      (published) => {
        if (published.length > 0) this.logger.warn({ published }, 'published documents left unpublished');
      },
      (error: Error) => this.logger.error({ err: error }, 'startup publication failed'),
    );
    this.inFlight.add(startup);
    void startup.finally(() => this.inFlight.delete(startup));
  }

  /** Lets a pass in progress finish, but not hold up shutdown for long (Redis may be what is down). */
  async beforeApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    let timeout: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(this.inFlight),
      new Promise((resolve) => (timeout = setTimeout(resolve, SHUTDOWN_WAIT_MS))),
    ]);
    clearTimeout(timeout);
  }

  /** One pass over the stale pending documents; `staleAfterMs` 0 checks every pending document. */
  reconcileOnce(staleAfterMs = DEFAULT_STALE_AFTER_MS): Promise<ReconcileReport> {
    const pass = this.pass(staleAfterMs).finally(() => this.inFlight.delete(pass));
    this.inFlight.add(pass);
    return pass;
  }

  private tick(): void {
    // A slow pass (huge backlog) is not stacked on by the next tick.
    if (this.inFlight.size > 0) return;
    this.reconcileOnce().then(
      (report) => {
        if (report.published.length > 0 || report.requeued.length > 0 || report.failed.length > 0) {
          this.logger.warn(report, 'reconciler repaired documents without a live ingest job');
        }
      },
      (error: Error) => this.logger.error({ err: error }, 'reconcile pass failed'),
    );
  }

  private async pass(staleAfterMs: number): Promise<ReconcileReport> {
    const report: ReconcileReport = { published: [], requeued: [], failed: [] };
    await this.publishUnpublished(staleAfterMs, report.published);
    let cursor: StalePendingDocument | undefined;
    for (;;) {
      const page = await this.documents.findStalePending(staleAfterMs, PAGE_SIZE, cursor);
      for (const document of page) await this.reconcile(document, report);
      if (page.length < PAGE_SIZE) return report;
      cursor = page.at(-1);
    }
  }

  /** Publishes the documents written at least `staleAfterMs` ago and still unpublished; adds them to `published`. */
  private async publishUnpublished(staleAfterMs: number, published: string[]): Promise<string[]> {
    let cursor: UnpublishedDocument | undefined;
    for (;;) {
      const page = await this.documents.findUnpublished(staleAfterMs, PAGE_SIZE, cursor);
      const byTenant = new Map<TenantId, string[]>();
      for (const { tenant, id } of page) {
        const ids = byTenant.get(tenant) ?? [];
        ids.push(id);
        byTenant.set(tenant, ids);
      }
      for (const [tenant, ids] of byTenant) published.push(...(await this.publisher.publish(tenant, ids)));
      if (page.length < PAGE_SIZE) return published;
      cursor = page.at(-1);
    }
  }

  private async reconcile(document: StalePendingDocument, report: ReconcileReport): Promise<void> {
    const queue = this.producer.queue(QueueName.Ingest);
    const state = await queue.getJobState(document.id);
    if (LIVE_JOB_STATES.has(state)) return;
    // Another reconciler, or the worker itself, moved the document since we read it.
    if (!(await this.documents.claimStale(document))) return;

    if (state === 'failed') {
      // Attempts are used up (a worker that crashed on it twice lands here too): settle, do not loop.
      const job = await queue.getJob(document.id);
      const reason = job?.failedReason || 'the ingest job failed';
      if (await this.documents.markFailed(document.tenant, document.id, `Indexing failed: ${reason}`)) {
        await this.corpusEvents.corpusChanged(document.tenant, 'failed', document.id);
        report.failed.push(document.id);
      }
      return;
    }
    // A finished job keeps its id: BullMQ would silently ignore a new job with the same id.
    if (state === 'completed') await queue.remove(document.id);
    await this.producer.enqueue(
      JobName.IngestDocument,
      { tenant: document.tenant, documentId: document.id },
      { jobId: document.id },
    );
    report.requeued.push(document.id);
  }
}
