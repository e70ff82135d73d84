import { getHeapStatistics } from 'node:v8';
import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { QueueName } from '#libs/contracts';
import { BoundedChecks, NOT_CHECKED, type CheckResult } from '#libs/observability';
import { JobProducer } from '#libs/queues';
import { RedisClient } from '#libs/redis';

/** API.md promises a snapshot at most 2 s old: a 1 s period plus checks bounded well under 1 s. */
const REFRESH_INTERVAL_MS = 1_000;
const CHECK_TIMEOUT_MS = 750;
/** Near V8's heap limit the process is about to die of OOM or spend its time in GC. */
const MAX_HEAP_FRACTION = 0.9;

export interface HealthChecks {
  database: CheckResult;
  redis: CheckResult;
  memory: CheckResult;
  queues: CheckResult;
}

export interface HealthReport {
  status: 'healthy' | 'unhealthy';
  checks: HealthChecks;
  /** When the checks ran, in unix seconds. */
  timestamp: number;
}

/**
 * Dependency checks run in the background and GET /health only returns the latest result, so
 * probes and load balancers hitting /health under load cost nothing extra downstream.
 */
@Injectable()
export class HealthSnapshot implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(HealthSnapshot.name);
  private report: HealthReport = summarise(
    { database: NOT_CHECKED, redis: NOT_CHECKED, memory: NOT_CHECKED, queues: NOT_CHECKED },
    Date.now(),
  );
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly bounded = new BoundedChecks(CHECK_TIMEOUT_MS);

  constructor(
    private readonly dataSource: DataSource,
    private readonly redis: RedisClient,
    private readonly producer: JobProducer,
  ) {}

  get current(): HealthReport {
    return this.report;
  }

  /** The first round finishes before the server listens, so the first probe gets real results. */
  async onApplicationBootstrap(): Promise<void> {
    await this.refresh();
  }

  onModuleDestroy(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private async refresh(): Promise<void> {
    const startedAt = Date.now();
    const [database, redis, queues] = await Promise.all([
      this.check('database', async () => {
        await this.dataSource.query('SELECT 1');
        return {};
      }),
      this.check('redis', async () => {
        await this.redis.ping();
        return {};
      }),
      this.check('queues', () => this.queueCounts()),
    ]);
    this.report = summarise({ database, redis, memory: memoryCheck(), queues }, startedAt);
    if (!this.stopped) this.timer = setTimeout(() => void this.refresh(), REFRESH_INTERVAL_MS).unref();
  }

  private async check(
    name: keyof HealthChecks,
    run: () => Promise<Record<string, unknown>>,
  ): Promise<CheckResult> {
    const result = await this.bounded.run(name, run);
    if (!result.ok && this.report.checks[name].ok !== false) {
      this.logger.warn(`health check ${name} failed: ${result.error}`);
    }
    return result;
  }

  private async queueCounts(): Promise<Record<string, unknown>> {
    const names = Object.values(QueueName);
    const counts = await Promise.all(names.map((name) => this.producer.queue(name).getJobCounts()));
    return Object.fromEntries(names.map((name, index) => [name, counts[index]]));
  }
}

function summarise(checks: HealthChecks, checkedAt: number): HealthReport {
  // Memory and queue depth inform operators; only losing Postgres or Redis makes the gateway useless.
  const healthy = checks.database.ok && checks.redis.ok;
  return { status: healthy ? 'healthy' : 'unhealthy', checks, timestamp: Math.floor(checkedAt / 1000) };
}

function memoryCheck(): CheckResult {
  const { rss, heapUsed } = process.memoryUsage();
  const heapLimit = getHeapStatistics().heap_size_limit;
  return {
    ok: heapUsed < heapLimit * MAX_HEAP_FRACTION,
    rss_bytes: rss,
    heap_used_bytes: heapUsed,
    heap_limit_bytes: heapLimit,
  };
}
