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
import { GatewayMetrics } from './gateway-metrics.js';
import { JobMetricsCollector } from './job-metrics-collector.js';
import { MetricsController } from './metrics.controller.js';
import { ClusterMetricsSource, LocalMetricsSource, MetricsSource } from './metrics-source.js';

/** Runs the job collector inside the app when the app is the whole deployment unit (one process). */
@Injectable()
class InProcessJobMetrics implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly collector: JobMetricsCollector;

  constructor(@Inject(APP_CONFIG) config: AppConfig, metrics: GatewayMetrics) {
    this.collector = new JobMetricsCollector(
      config,
      metrics.registry,
      createLogger('gateway', config.LOG_LEVEL).child({ context: JobMetricsCollector.name }),
    );
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.collector.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.collector.close();
  }
}

export interface MetricsModuleOptions {
  /**
   * This process is one node:cluster worker: the primary runs the job collector and merges
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
        ...(clusterWorker ? [] : [InProcessJobMetrics]),
      ],
      exports: [GatewayMetrics],
    };
  }
}
