import { Queue, QueueEvents } from 'bullmq';
import { Gauge, Histogram, type Registry } from 'prom-client';
import type { AppConfig } from '#libs/config';
import { QueueName, type IngestDocumentResult, type AnswerQueryResult } from '#libs/contracts';
import { MetricName, type Logger } from '#libs/observability';
import { bullPrefix } from '#libs/queues';
import { redisOptionsFromUrl } from '#libs/redis';

/** Queue depths move slowly next to a 15 s scrape; a few seconds keeps Redis load negligible. */
const QUEUE_COUNTS_INTERVAL_MS = 5_000;

const JOB_DURATION_BUCKETS: { readonly [Q in QueueName]: number[] } = {
  [QueueName.Ingest]: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
  [QueueName.Query]: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
};

/**
 * Job durations (from the results' `durationMs`) and queue depths. Queue-wide facts, so exactly
 * one collector runs per gateway deployment unit: inside the app when it runs as one process,
 * in the cluster primary otherwise. Were each gateway process to observe them, every job would
 * be counted once per process.
 */
export class JobMetricsCollector {
  private readonly queueJobs: Gauge<'queue' | 'state'>;
  private readonly durations: { readonly [Q in QueueName]: Histogram };
  private readonly queues: Queue[] = [];
  private readonly events: QueueEvents[] = [];
  private countsTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly config: AppConfig,
    registry: Registry,
    private readonly logger: Logger,
  ) {
    this.queueJobs = new Gauge({
      name: MetricName.QueueJobs,
      help: 'Jobs per queue and state, sampled every few seconds',
      labelNames: ['queue', 'state'] as const,
      registers: [registry],
    });
    this.durations = {
      [QueueName.Ingest]: new Histogram({
        name: MetricName.IngestJobDuration,
        help: 'Time an ingest worker spent on a document, in seconds',
        buckets: JOB_DURATION_BUCKETS[QueueName.Ingest],
        registers: [registry],
      }),
      [QueueName.Query]: new Histogram({
        name: MetricName.QueryJobDuration,
        help: 'Time a query worker spent retrieving and composing an answer, in seconds',
        buckets: JOB_DURATION_BUCKETS[QueueName.Query],
        registers: [registry],
      }),
    };
  }

  async start(): Promise<void> {
    const redis = redisOptionsFromUrl(this.config.REDIS_URL);
    const prefix = bullPrefix(this.config);
    for (const name of Object.values(QueueName)) {
      // Counts fail fast while Redis is down instead of piling up behind a reconnect.
      const queue = new Queue(name, {
        connection: { ...redis, enableOfflineQueue: false, maxRetriesPerRequest: 1 },
        prefix,
      });
      queue.on('error', (error) => this.logger.warn({ queue: name, err: error }, 'queue connection error'));
      this.queues.push(queue);
      // Blocking reads must retry forever, as BullMQ requires.
      const events = new QueueEvents(name, { connection: { ...redis, maxRetriesPerRequest: null }, prefix });
      events.on('error', (error) => this.logger.warn({ queue: name, err: error }, 'queue events error'));
      events.on('completed', ({ returnvalue }) => this.observeDuration(name, returnvalue));
      this.events.push(events);
    }
    await Promise.all(this.events.map((events) => events.waitUntilReady()));
    await this.sampleCounts();
    this.countsTimer = setInterval(() => void this.sampleCounts(), QUEUE_COUNTS_INTERVAL_MS).unref();
  }

  async close(): Promise<void> {
    clearInterval(this.countsTimer);
    await Promise.all([...this.events, ...this.queues].map((client) => client.close()));
  }

  /** BullMQ 6 hands QueueEvents' `returnvalue` over already parsed from JSON. */
  private observeDuration(queue: QueueName, result: unknown): void {
    const durationMs = (result as Partial<IngestDocumentResult | AnswerQueryResult> | null)?.durationMs;
    if (typeof durationMs === 'number' && Number.isFinite(durationMs) && durationMs >= 0) {
      this.durations[queue].observe(durationMs / 1000);
    }
  }

  private async sampleCounts(): Promise<void> {
    await Promise.all(
      this.queues.map(async (queue) => {
        try {
          const counts = await queue.getJobCounts();
          for (const [state, count] of Object.entries(counts)) {
            this.queueJobs.set({ queue: queue.name, state }, count);
          }
        } catch (error) {
          this.logger.warn({ queue: queue.name, err: error }, 'could not read job counts');
        }
      }),
    );
  }
}
