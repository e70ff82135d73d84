import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { prometheusContentType, type Registry } from 'prom-client';
import type { Logger } from '#libs/observability';
import type { WorkerHealth } from './worker-health.js';

export interface WorkerHttpDependencies {
  health: WorkerHealth;
  /** The worker's registry plus, in the process that holds the lease, the queue depths. */
  registry: Registry;
  /** From `metricsAuthorization(METRICS_TOKEN)`. */
  authorised(authorization: string | undefined): boolean;
  logger: Logger;
}

type Handler = (request: IncomingMessage, response: ServerResponse) => Promise<void> | void;

/**
 * The worker's own small port, on node:http: three GET routes do not need a framework, and the
 * worker process stays light. Answers are JSON in the gateway's error shape, except /metrics.
 */
export class WorkerHttpServer {
  private readonly server: Server;
  private readonly routes: ReadonlyMap<string, Handler>;

  constructor(private readonly deps: WorkerHttpDependencies) {
    this.routes = new Map<string, Handler>([
      ['/health/live', (_request, response) => json(response, 200, { status: 'ok' })],
      [
        '/health',
        (_request, response) => {
          const report = deps.health.current;
          json(response, report.status === 'healthy' ? 200 : 503, report);
        },
      ],
      ['/metrics', (request, response) => this.metrics(request, response)],
    ]);
    this.server = createServer((request, response) => void this.handle(request, response));
    // Probes and scrapes come every few seconds; keeping their connections costs nothing.
    this.server.keepAliveTimeout = 65_000;
  }

  listen(port: number, host: string): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve(this.server.address() as AddressInfo);
      });
    });
  }

  address(): AddressInfo {
    return this.server.address() as AddressInfo;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '/').split('?', 1)[0];
    const route = this.routes.get(path);
    try {
      if (route === undefined) return json(response, 404, error(404, 'Not Found', `no route ${path}`));
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        response.setHeader('allow', 'GET, HEAD');
        return json(response, 405, error(405, 'Method Not Allowed', `${path} answers GET only`));
      }
      await route(request, response);
    } catch (failure) {
      this.deps.logger.error({ err: failure, path }, 'worker HTTP request failed');
      if (!response.headersSent)
        json(response, 500, error(500, 'Internal Server Error', 'Internal server error'));
    }
  }

  private async metrics(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (!this.deps.authorised(request.headers.authorization)) {
      response.setHeader('www-authenticate', 'Bearer');
      return json(
        response,
        401,
        error(401, 'Unauthorized', 'metrics require the METRICS_TOKEN bearer token'),
      );
    }
    const body = await this.deps.registry.metrics();
    response.writeHead(200, { 'content-type': prometheusContentType });
    response.end(body);
  }
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  response.end(JSON.stringify(body));
}

const error = (statusCode: number, reason: string, message: string) => ({
  statusCode,
  error: reason,
  message,
});
