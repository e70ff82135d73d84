import { randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { Gauge, type Registry } from 'prom-client';
import type { AppConfig } from '#libs/config';
import { QueueName, RedisKey } from '#libs/contracts';
import { MetricName, type Logger } from '#libs/observability';
import { redisOptionsFromUrl } from '#libs/redis';
import { disconnectWhileRedisIsDown } from './close-bullmq.js';
import { bullPrefix } from './queue-settings.js';

export interface QueueDepthTimings {
  /** How often the lease is renewed (or tried for) and the depths sampled. */
  intervalMs: number;
  /** How long a lease outlives its holder's last renewal: the takeover time after a crash. */
  leaseMs: number;
}

/** Depths move slowly next to a 15 s scrape; a crashed holder is replaced within about 20 s. */
export const DEFAULT_QUEUE_DEPTH_TIMINGS: QueueDepthTimings = { intervalMs: 5_000, leaseMs: 15_000 };

/** Takes the lease when it is free, renews it when it is ours: 1 = we hold it. */
const HOLD_LEASE = `
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] or not holder then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0`;

const RELEASE_LEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

interface LeaseCommands {
  holdLease(key: string, owner: string, leaseMs: number): Promise<number>;
  releaseLease(key: string, owner: string): Promise<number>;
}

/**
 * `queue_jobs{queue,state}` for the whole deployment, exported by exactly one process. Gateways
 * and workers all run one of these; they compete for a Redis lease, and only its holder samples
 * `getJobCounts()` and exports the gauge, the others export nothing. When the holder stops it
 * releases the lease; when it dies the lease expires and another process takes it over. So a
 * `sum` over every scraped target is the real depth, not a multiple of it, at any replica count
 * (ADR 0021). `queue_depth_exporter` (1 or 0) says which process holds the lease.
 */
export class QueueDepthExporter {
  private readonly owner = randomUUID();
  private readonly queueJobs: Gauge<'queue' | 'state'>;
  private readonly isExporter: Gauge;
  private readonly queues: Queue[] = [];
  private readonly redis: Redis & LeaseCommands;
  private timer: NodeJS.Timeout | undefined;
  private holding = false;
  private running: Promise<void> = Promise.resolve();

  constructor(
    config: AppConfig,
    registry: Registry,
    private readonly logger: Logger,
    private readonly timings: QueueDepthTimings = DEFAULT_QUEUE_DEPTH_TIMINGS,
  ) {
    this.queueJobs = new Gauge({
      name: MetricName.QueueJobs,
      help: 'Jobs per queue and state, sampled every few seconds by one process of the deployment',
      labelNames: ['queue', 'state'] as const,
      registers: [registry],
    });
    this.isExporter = new Gauge({
      name: MetricName.QueueDepthExporter,
      help: '1 when this process holds the lease to export queue_jobs for the deployment, else 0',
      registers: [registry],
    });
    // Fail fast while Redis is down: a missed round is retried by the next one.
    const connection = {
      ...redisOptionsFromUrl(config.REDIS_URL),
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
    };
    this.redis = new Redis({ ...connection, keyPrefix: `${config.REDIS_KEY_PREFIX}:` }) as Redis &
      LeaseCommands;
    this.redis.defineCommand('holdLease', { numberOfKeys: 1, lua: HOLD_LEASE });
    this.redis.defineCommand('releaseLease', { numberOfKeys: 1, lua: RELEASE_LEASE });
    this.redis.on('error', (error) => this.logger.warn({ err: error }, 'queue depth lease connection error'));
    for (const name of Object.values(QueueName)) {
      const queue = new Queue(name, { connection, prefix: bullPrefix(config) });
      queue.on('error', (error) => this.logger.warn({ queue: name, err: error }, 'queue connection error'));
      this.queues.push(queue);
    }
  }

  /** Whether this process exported the depths in its last round. */
  get exporting(): boolean {
    return this.holding;
  }

  /** Runs the first round (so a scrape right after start-up is complete), then one per interval. */
  async start(): Promise<void> {
    await Promise.all(this.queues.map((queue) => queue.waitUntilReady()));
    await this.round();
    this.timer = setInterval(() => {
      this.running = this.round();
    }, this.timings.intervalMs).unref();
  }

  /** Stops and hands the lease over at once, so another process takes over within one interval. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
    if (this.holding) {
      await this.redis
        .releaseLease(RedisKey.QueueDepthLease, this.owner)
        .catch((error: Error) => this.logger.warn({ err: error }, 'could not release the queue depth lease'));
    }
    this.stopExporting();
    disconnectWhileRedisIsDown(this.queues);
    await Promise.all(this.queues.map((queue) => queue.close()));
    this.redis.disconnect();
  }

  private async round(): Promise<void> {
    let held: boolean;
    try {
      held = (await this.redis.holdLease(RedisKey.QueueDepthLease, this.owner, this.timings.leaseMs)) === 1;
    } catch (error) {
      // Without Redis nobody can read depths; a stale value is worse than none.
      this.logger.warn({ err: error }, 'could not reach the queue depth lease');
      held = false;
    }
    if (held !== this.holding) this.logger.info({ exporting: held }, 'queue depth exporter changed hands');
    if (!held) return this.stopExporting();
    this.holding = true;
    this.isExporter.set(1);
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

  private stopExporting(): void {
    this.holding = false;
    this.isExporter.set(0);
    this.queueJobs.reset();
  }
}
