import { Registry } from 'prom-client';
import { loadConfig } from '#libs/config';
import { createLogger } from '#libs/observability';
import { QueueDepthExporter } from '#libs/queues';

/**
 * A separate process competing for the queue-depth lease, so a test can kill it with SIGKILL:
 * a real crash that releases nothing. Timings come from the environment; it says whether it
 * holds the lease after its first round, then runs until killed.
 */
const exporter = new QueueDepthExporter(
  loadConfig(),
  new Registry(),
  createLogger('queue-depth-child', 'silent'),
  {
    intervalMs: Number(process.env.TEST_INTERVAL_MS),
    leaseMs: Number(process.env.TEST_LEASE_MS),
  },
);
await exporter.start();
process.stdout.write(exporter.exporting ? 'exporting\n' : 'standing by\n');
