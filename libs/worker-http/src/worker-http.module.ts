import type { WorkerHost } from '@nestjs/bullmq';
import {
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type Type,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { Worker } from 'bullmq';
import { DataSource } from 'typeorm';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { QueueName } from '#libs/contracts';
import { createLogger, metricsAuthorization, tenantLabeler } from '#libs/observability';
import { QueueDepthExporter } from '#libs/queues';
import { RedisClient } from '#libs/redis';
import { WorkerHealth } from './worker-health.js';
import { WorkerHttpServer } from './worker-http-server.js';
import { WorkerMetrics } from './worker-metrics.js';

/** WORKER_HTTP_PORT when it is unset: one port per kind of worker, so `npm start` runs both on one host. */
export const DEFAULT_WORKER_HTTP_PORT: { readonly [Q in QueueName]: number } = {
  [QueueName.Ingest]: 8001,
  [QueueName.Query]: 8002,
};

export interface WorkerHttpOptions {
  queue: QueueName;
  /** The app's processor; its BullMQ Worker is watched for metrics and health. */
  consumer: Type<WorkerHost>;
  /** Logger name, e.g. `ingest-worker`. */
  app: string;
}

const WORKER_HTTP_OPTIONS = Symbol('WORKER_HTTP_OPTIONS');

/**
 * The worker process's own HTTP port: `/health/live`, `/health` (Postgres, Redis, consuming)
 * and `/metrics` (its jobs, its process, and the deployment's queue depths when it holds the
 * lease). It opens once the app is up (the consumer is running) and closes after the consumer
 * has drained, so probes see the whole shutdown.
 */
@Injectable()
export class WorkerHttpService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly metrics: WorkerMetrics;
  private readonly exporter: QueueDepthExporter;
  private readonly health: WorkerHealth;
  private readonly server: WorkerHttpServer;
  private worker: Worker | undefined;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @Inject(WORKER_HTTP_OPTIONS) private readonly options: WorkerHttpOptions,
    private readonly moduleRef: ModuleRef,
    dataSource: DataSource,
    redis: RedisClient,
  ) {
    const logger = createLogger(options.app, config.LOG_LEVEL).child({ context: WorkerHttpService.name });
    this.metrics = new WorkerMetrics(options.queue, tenantLabeler(config.METRICS_TENANTS));
    this.exporter = new QueueDepthExporter(config, this.metrics.registry, logger);
    this.health = new WorkerHealth({
      database: () => dataSource.query('SELECT 1'),
      redis: () => redis.ping(),
      consumer: () => this.consumerCheck(),
    });
    this.server = new WorkerHttpServer({
      health: this.health,
      registry: this.metrics.registry,
      authorised: metricsAuthorization(config.METRICS_TOKEN),
      logger,
    });
  }

  /** Where the port listens (WORKER_HTTP_PORT=0 picks a free one). */
  get port(): number {
    return this.server.address().port;
  }

  async onApplicationBootstrap(): Promise<void> {
    this.worker = this.moduleRef.get(this.options.consumer, { strict: false }).worker;
    this.metrics.observe(this.worker);
    await Promise.all([this.exporter.start(), this.health.start()]);
    const port = this.config.WORKER_HTTP_PORT ?? DEFAULT_WORKER_HTTP_PORT[this.options.queue];
    await this.server.listen(port, this.config.HOST);
  }

  async onApplicationShutdown(): Promise<void> {
    this.health.stop();
    await Promise.all([this.exporter.close(), this.server.close()]);
  }

  private consumerCheck() {
    const worker = this.worker;
    if (worker === undefined) return { ok: false, queue: this.options.queue, error: 'not started' };
    const running = worker.isRunning();
    const paused = worker.isPaused();
    const draining = worker.closing !== undefined;
    return {
      ok: running && !paused && !draining,
      queue: this.options.queue,
      running,
      paused,
      draining,
      concurrency: worker.concurrency,
    };
  }
}

@Module({})
export class WorkerHttpModule {
  static forRoot(options: WorkerHttpOptions): DynamicModule {
    return {
      module: WorkerHttpModule,
      providers: [{ provide: WORKER_HTTP_OPTIONS, useValue: options }, WorkerHttpService],
      exports: [WorkerHttpService],
    };
  }
}
