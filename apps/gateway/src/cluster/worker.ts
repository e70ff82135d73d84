import type { AppConfig } from '#libs/config';
import { createLogger } from '#libs/observability';
import { createGatewayApp, startGateway } from '../gateway.app.js';
import { isShutdownMessage } from './messages.js';

/**
 * One gateway process under the cluster primary. It closes (draining in-flight requests) when
 * the primary says so, on a signal of its own (Ctrl-C reaches the whole process group), or when
 * the primary is gone.
 */
export async function runWorker(config: AppConfig): Promise<void> {
  const logger = createLogger('gateway', config.LOG_LEVEL);
  const app = await createGatewayApp(config, { clusterWorker: true });
  await startGateway(app, config);

  let closing = false;
  const close = (): void => {
    if (closing) return;
    closing = true;
    app.close().then(
      () => process.exit(0),
      (error: Error) => {
        logger.error({ err: error }, 'gateway worker did not close cleanly');
        process.exit(1);
      },
    );
  };
  process.on('message', (message) => {
    if (isShutdownMessage(message)) close();
  });
  process.on('disconnect', close);
  process.on('SIGINT', close);
  process.on('SIGTERM', close);
}
