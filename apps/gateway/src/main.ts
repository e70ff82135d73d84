import 'reflect-metadata';
import cluster from 'node:cluster';
import { loadConfig } from '#libs/config';

const config = loadConfig();

// The primary stays light: it never loads Nest (dynamic imports).
if (config.GATEWAY_WORKERS === 1) {
  const { createGatewayApp, startGateway } = await import('./gateway.app.js');
  await startGateway(await createGatewayApp(config), config);
} else if (cluster.isPrimary) {
  const { runPrimary } = await import('./cluster/primary.js');
  await runPrimary(config);
} else {
  const { runWorker } = await import('./cluster/worker.js');
  await runWorker(config);
}
