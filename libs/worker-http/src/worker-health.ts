import { BoundedChecks, NOT_CHECKED, type CheckResult } from '#libs/observability';

export interface WorkerHealthReport {
  status: 'healthy' | 'unhealthy';
  checks: { database: CheckResult; redis: CheckResult; consumer: CheckResult };
  /** When the checks ran, in unix seconds. */
  timestamp: number;
}

export interface WorkerHealthChecks {
  database(): Promise<unknown>;
  redis(): Promise<unknown>;
  /** Synchronous: the worker's own state, no I/O. */
  consumer(): CheckResult;
}

/** As the gateway's /health: a snapshot at most about 2 s old, each check bounded. */
const REFRESH_INTERVAL_MS = 1_000;
const CHECK_TIMEOUT_MS = 750;

/**
 * The worker's /health, in the gateway's shape: Postgres and Redis are checked in the background
 * and a probe only reads the latest snapshot. Healthy means both answer and the worker is
 * consuming its queue (not paused, not draining for shutdown).
 */
export class WorkerHealth {
  private report: WorkerHealthReport = {
    status: 'unhealthy',
    checks: { database: NOT_CHECKED, redis: NOT_CHECKED, consumer: NOT_CHECKED },
    timestamp: Math.floor(Date.now() / 1000),
  };
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private readonly bounded = new BoundedChecks(CHECK_TIMEOUT_MS);

  constructor(private readonly checks: WorkerHealthChecks) {}

  get current(): WorkerHealthReport {
    return this.report;
  }

  /** The first round completes before the port opens, so the first probe gets real results. */
  async start(): Promise<void> {
    await this.refresh();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private async refresh(): Promise<void> {
    const startedAt = Date.now();
    const [database, redis] = await Promise.all([this.timed('database'), this.timed('redis')]);
    const consumer = this.checks.consumer();
    this.report = {
      status: database.ok && redis.ok && consumer.ok ? 'healthy' : 'unhealthy',
      checks: { database, redis, consumer },
      timestamp: Math.floor(startedAt / 1000),
    };
    if (!this.stopped) this.timer = setTimeout(() => void this.refresh(), REFRESH_INTERVAL_MS).unref();
  }

  private timed(name: 'database' | 'redis'): Promise<CheckResult> {
    return this.bounded.run(name, async () => {
      await this.checks[name]();
      return {};
    });
  }
}
