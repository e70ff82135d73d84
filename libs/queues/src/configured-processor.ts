import { Processor, type WorkerHost } from '@nestjs/bullmq';
import type { AppConfig } from '#libs/config';
import type { QueueName } from '#libs/contracts';
import { queueSettings } from './queue-settings.js';

// TypeScript accepts a class expression extending a generic base only with this exact signature (TS2545).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type ProcessorClass = new (...args: any[]) => WorkerHost;

/**
 * A subclass of `base` consuming `queue` with its row of the settings table. `@Processor`
 * options are read once, when @nestjs/bullmq creates the Worker, and a decorator on the class
 * itself could only hold constants; lock renewal copies `lockDuration` at construction, so
 * setting it on the worker afterwards would not reach it. The worker starts idle (autorun off):
 * the processor calls `worker.run()` once the whole app is up.
 */
export function configuredProcessor<C extends ProcessorClass>(
  base: C,
  queue: QueueName,
  config: AppConfig,
): C {
  const settings = queueSettings(config)[queue];
  @Processor(queue, {
    autorun: false,
    concurrency: settings.concurrency,
    lockDuration: settings.lockDurationMs,
    stalledInterval: settings.stalledIntervalMs,
  })
  // abstract only for the type checker: `base` is the concrete class that implements process().
  abstract class ConfiguredProcessor extends base {}
  return ConfiguredProcessor;
}
