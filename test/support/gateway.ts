import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { AppConfig } from '#libs/config';
import { createGatewayApp, startGateway } from '../../apps/gateway/src/gateway.app.js';

export interface RunningGateway {
  app: NestFastifyApplication;
  baseUrl: string;
  close(): Promise<void>;
}

/** One gateway process's app, in this process, listening on a free port of 127.0.0.1. */
export async function startTestGateway(config: AppConfig): Promise<RunningGateway> {
  const app = await createGatewayApp(config);
  await startGateway(app, config);
  const address = app.getHttpServer().address();
  if (address === null || typeof address === 'string') throw new Error('gateway is not listening on TCP');
  return {
    app,
    baseUrl: `http://127.0.0.1:${address.port}`,
    // A test's idle keep-alive connections are closed at once, not after the drain's grace.
    close: async () => {
      app.getHttpServer().closeIdleConnections();
      await app.close();
    },
  };
}
