import {
  Inject,
  Injectable,
  Module,
  type DynamicModule,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { createLogger } from '#libs/observability';
import { QueueDepthExporter } from '#libs/queues';
import { GatewayMetrics } from './gateway-metrics.js';
import { MetricsController } from './metrics.controller.js';
import { ClusterMetricsSource, LocalMetricsSource, MetricsSource } from './metrics-source.js';

/** Competes for the queue-depth lease inside the app when the app is the whole deployment unit (one process). */
@Injectable()
class InProcessQueueDepth implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly exporter: QueueDepthExporter;

  constructor(@Inject(APP_CONFIG) config: AppConfig, metrics: GatewayMetrics) {
    this.exporter = new QueueDepthExporter(
      config,
      metrics.registry,
      createLogger('gateway', config.LOG_LEVEL).child({ context: QueueDepthExporter.name }),
    );
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.exporter.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.exporter.close();
  }
}

export interface MetricsModuleOptions {
  /**
   * This process is one node:cluster worker: the primary runs the queue-depth exporter and merges
   * every worker's series, so /metrics is relayed to it.
   */
  clusterWorker: boolean;
}

@Module({})
export class MetricsModule {
  static forRoot({ clusterWorker }: MetricsModuleOptions): DynamicModule {
    return {
      module: MetricsModule,
      global: true,
      controllers: [MetricsController],
      providers: [
        { provide: GatewayMetrics, useFactory: () => new GatewayMetrics() },
        clusterWorker
          ? {
              provide: MetricsSource,
              inject: [GatewayMetrics],
              useFactory: (metrics: GatewayMetrics) => new ClusterMetricsSource(metrics),
            }
          : {
              provide: MetricsSource,
              inject: [GatewayMetrics],
              useFactory: (metrics: GatewayMetrics) => new LocalMetricsSource(metrics),
            },
        ...(clusterWorker ? [] : [InProcessQueueDepth]),
      ],
      exports: [GatewayMetrics],
    };
  }
}
