import cluster, { type Worker } from 'node:cluster';
import { Registry } from 'prom-client';
import type { AppConfig } from '#libs/config';
import { createLogger } from '#libs/observability';
import { QueueDepthExporter } from '#libs/queues';
import { DASHBOARD_OFF_MESSAGE } from '../admin/dashboard-off.js';
import { MetricsRelayPrimary } from '../metrics/cluster-relay.js';
import { SHUTDOWN_MESSAGE } from './messages.js';

/** A worker that dies sooner than this after its start counts as crash-looping: back off. */
const STABLE_AFTER_MS = 10_000;
const RESPAWN_DELAY_MS = 1_000;
const MAX_RESPAWN_DELAY_MS = 30_000;
/** Longer than QUERY_TIMEOUT_MS so that waiting queries can finish before the workers are killed. */
const SHUTDOWN_GRACE_MS = 30_000;

/**
 * The node:cluster primary: forks GATEWAY_WORKERS gateway processes and replaces those that die,
 * competes for the deployment's queue-depth lease (ADR 0021), answers the workers' /metrics
 * relay, and on SIGINT/SIGTERM lets every worker drain before it exits.
 */
export async function runPrimary(config: AppConfig): Promise<void> {
  const logger = createLogger('gateway-primary', config.LOG_LEVEL);
  const registry = new Registry();
  const exporter = new QueueDepthExporter(config, registry, logger);
  const liveWorkers = (): Worker[] =>
    Object.values(cluster.workers ?? {}).filter((worker): worker is Worker => worker?.isConnected() === true);
  const relay = new MetricsRelayPrimary(liveWorkers, registry);
  cluster.on('message', (worker, message) => relay.handle(worker, message));

  const startedAt = new Map<number, number>();
  let respawnDelayMs = RESPAWN_DELAY_MS;
  let stopping = false;
  const fork = (): void => {
    if (stopping) return;
    const worker = cluster.fork();
    startedAt.set(worker.id, Date.now());
  };

  cluster.on('listening', (worker, address) => {
    logger.info({ workerPid: worker.process.pid, port: address.port }, 'gateway worker listening');
  });

  cluster.on('exit', (worker, code, signal) => {
    const lived = Date.now() - (startedAt.get(worker.id) ?? 0);
    startedAt.delete(worker.id);
    if (stopping) {
      if (Object.values(cluster.workers ?? {}).every((other) => other === undefined || other.isDead())) {
        void finish();
      }
      return;
    }
    respawnDelayMs =
      lived < STABLE_AFTER_MS ? Math.min(respawnDelayMs * 2, MAX_RESPAWN_DELAY_MS) : RESPAWN_DELAY_MS;
    logger.error(
      { workerPid: worker.process.pid, code, signal, respawnInMs: respawnDelayMs },
      'gateway worker died',
    );
    setTimeout(fork, respawnDelayMs);
  });

  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping gateway workers');
    const workers = Object.values(cluster.workers ?? {});
    if (workers.length === 0) {
      void finish();
      return;
    }
    for (const worker of workers) {
      if (worker?.isConnected() === true) worker.send(SHUTDOWN_MESSAGE);
    }
    setTimeout(() => {
      for (const worker of Object.values(cluster.workers ?? {})) worker?.kill('SIGKILL');
    }, SHUTDOWN_GRACE_MS).unref();
  };
  const finish = async (): Promise<void> => {
    await exporter
      .close()
      .catch((error: Error) => logger.warn({ err: error }, 'queue depth exporter close failed'));
    logger.info('gateway stopped');
    process.exit(0);
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);

  for (let i = 0; i < config.GATEWAY_WORKERS; i++) fork();
  logger.info({ workers: config.GATEWAY_WORKERS }, 'gateway primary started');
  if (config.ADMIN_USER === undefined) logger.info(DASHBOARD_OFF_MESSAGE);
  // Queue depths are not worth delaying the workers for; the exporter retries every round.
  await exporter.start().catch((error: Error) => logger.error({ err: error }, 'queue depth exporter failed'));
}
