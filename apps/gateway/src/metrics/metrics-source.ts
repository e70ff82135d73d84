import type { OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { GatewayMetrics } from './gateway-metrics.js';
import { MetricsRelayWorker, type RelayMessage } from './cluster-relay.js';

/** Where GET /metrics gets its text: this process alone, or the whole cluster through the primary. */
export abstract class MetricsSource {
  abstract render(): Promise<string>;
}

/** One process: its registry already holds the queue-depth exporter's series. */
export class LocalMetricsSource extends MetricsSource {
  constructor(private readonly metrics: GatewayMetrics) {
    super();
  }

  render(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}

/** A cluster worker: answers the primary's collections and relays scrapes to it over IPC. */
export class ClusterMetricsSource extends MetricsSource implements OnModuleInit, OnModuleDestroy {
  private readonly relay: MetricsRelayWorker;
  private readonly onMessage = (message: unknown): void => this.relay.handle(message);

  constructor(metrics: GatewayMetrics) {
    super();
    this.relay = new MetricsRelayWorker((message: RelayMessage) => {
      if (process.send === undefined) throw new Error('not a cluster worker: no IPC channel');
      process.send(message);
    }, metrics.registry);
  }

  onModuleInit(): void {
    process.on('message', this.onMessage);
  }

  onModuleDestroy(): void {
    process.off('message', this.onMessage);
    this.relay.close();
  }

  render(): Promise<string> {
    return this.relay.request();
  }
}
