import { UnrecoverableError, type Job, type Worker } from 'bullmq';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { QueueName } from '#libs/contracts';
import { MetricName } from '#libs/observability';

/** Seconds. Ingest spans a small text to a large PDF; a query answers in milliseconds. */
const JOB_DURATION: { readonly [Q in QueueName]: { name: string; help: string; buckets: number[] } } = {
  [QueueName.Ingest]: {
    name: MetricName.IngestJobDuration,
    help: 'Time an ingest worker spent on a document, in seconds (completed jobs)',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
  },
  [QueueName.Query]: {
    name: MetricName.QueryJobDuration,
    help: 'Time a query worker spent retrieving and composing an answer, in seconds (completed jobs)',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  },
};

/**
 * One worker process's series, observed from its own BullMQ Worker's events: each job is counted
 * by the one process that ran it, so summing over worker replicas gives the real totals (the
 * gateway no longer observes jobs; ADR 0021). Default process metrics include the event-loop lag
 * (`nodejs_eventloop_lag_seconds`, `nodejs_eventloop_lag_p99_seconds`).
 */
export class WorkerMetrics {
  readonly registry = new Registry();
  private readonly active = new Set<string>();
  private readonly duration: Histogram;
  private readonly completed: Counter<'queue' | 'tenant'>;
  private readonly failed: Counter<'queue' | 'tenant'>;
  private readonly retried: Counter<'queue' | 'tenant'>;
  /** The `queue` label lets one panel hold both kinds of worker. */
  private readonly labels: { queue: QueueName };

  /**
   * @param tenantLabel the `tenant` label of a job's tenant (tenantLabeler(METRICS_TENANTS)): the
   * three job counters carry it, the histogram and the active gauge do not.
   */
  constructor(
    queue: QueueName,
    private readonly tenantLabel: (tenant: string | undefined) => string,
  ) {
    this.labels = { queue };
    collectDefaultMetrics({ register: this.registry });
    this.duration = new Histogram({ ...JOB_DURATION[queue], registers: [this.registry] });
    this.completed = new Counter({
      name: MetricName.WorkerJobsCompleted,
      help: 'Jobs this worker completed',
      labelNames: ['queue', 'tenant'] as const,
      registers: [this.registry],
    });
    this.failed = new Counter({
      name: MetricName.WorkerJobsFailed,
      help: 'Jobs that failed for good in this worker (no attempt left, or unrecoverable)',
      labelNames: ['queue', 'tenant'] as const,
      registers: [this.registry],
    });
    this.retried = new Counter({
      name: MetricName.WorkerJobsRetried,
      help: 'Attempts that failed in this worker and were put back for another attempt',
      labelNames: ['queue', 'tenant'] as const,
      registers: [this.registry],
    });
    // Counted from the set at scrape time: events missed before observe() cannot make it negative.
    const { active, labels } = this;
    new Gauge({
      name: MetricName.WorkerJobsActive,
      help: 'Jobs this worker is processing now',
      labelNames: ['queue'] as const,
      registers: [this.registry],
      collect() {
        this.set(labels, active.size);
      },
    });
  }

  /** Follows the worker's job events from now on. */
  observe(worker: Worker): void {
    worker.on('active', (job: Job) => this.active.add(jobKey(job)));
    worker.on('completed', (job: Job, result: unknown) => {
      this.active.delete(jobKey(job));
      this.completed.inc(this.jobLabels(job));
      const seconds = durationSeconds(job, result);
      if (seconds !== undefined) this.duration.observe(seconds);
    });
    worker.on('failed', (job: Job | undefined, error: Error) => {
      if (job === undefined) return;
      this.active.delete(jobKey(job));
      if (willRetry(job, error)) this.retried.inc(this.jobLabels(job));
      else this.failed.inc(this.jobLabels(job));
    });
  }

  /** Every job of the queue contract carries its tenant; a job without one counts as `none`. */
  private jobLabels(job: Job): { queue: QueueName; tenant: string } {
    const tenant = (job.data as { tenant?: unknown } | undefined)?.tenant;
    return { ...this.labels, tenant: this.tenantLabel(typeof tenant === 'string' ? tenant : undefined) };
  }
}

/** An attempt is repeated by BullMQ only when attempts remain and the error is not unrecoverable. */
function willRetry(job: Job, error: Error): boolean {
  const unrecoverable = error instanceof UnrecoverableError || error.name === UnrecoverableError.name;
  // BullMQ counts the failed attempt before it emits 'failed'.
  return !unrecoverable && job.attemptsMade < (job.opts.attempts ?? 1);
}

/** The result's own `durationMs` (the work itself, by the queue contract), else BullMQ's timestamps. */
function durationSeconds(job: Job, result: unknown): number | undefined {
  const reported = (result as { durationMs?: unknown } | null)?.durationMs;
  if (typeof reported === 'number' && Number.isFinite(reported) && reported >= 0) return reported / 1000;
  if (job.processedOn !== undefined && job.finishedOn !== undefined) {
    return Math.max(0, job.finishedOn - job.processedOn) / 1000;
  }
  return undefined;
}

/** One job id is active at most once at a time in a worker. */
const jobKey = (job: Job): string => job.id ?? '';
