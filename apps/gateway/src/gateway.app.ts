import type { IncomingMessage } from 'node:http';
import { randomUUID } from 'node:crypto';
import { NestFactory } from '@nestjs/core';
import { Transport, type MicroserviceOptions } from '@nestjs/microservices';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import type { AppConfig } from '#libs/config';
import { createLogger, NestPinoLogger, tenantLabeler } from '#libs/observability';
import { redisTransportOptions } from '#libs/redis';
import { registerMultipart } from './documents/multipart.js';
import { registerNdjson } from './documents/ndjson.js';
import { registerCors } from './http/cors.js';
import { registerQueueDashboard } from './admin/queue-dashboard.js';
import { ApiKeyGuard } from './auth/api-key.guard.js';
import { installEarlyAuthentication } from './auth/authenticate-before-body.js';
import { GatewayModule } from './gateway.module.js';
import { answerFrameworkError } from './http/framework-errors.js';
import { installGracefulClose } from './http/graceful-close.js';
import { formatSchemaErrors } from './http/schema-errors.js';
import { setSecurityHeaders } from './http/security-headers.js';
import { GatewayMetrics } from './metrics/gateway-metrics.js';
import { installHttpMetrics } from './metrics/http-metrics.js';
import { registerInFlightLimit } from './overload/in-flight-limit.js';
import { overloadThresholds, registerOverloadShedding } from './overload/overload-shedding.js';
import { installCachedAnswers } from './query/cached-answers.js';
import { QueryService } from './query/query.service.js';

const CLIENT_REQUEST_ID = /^[\w.:@/+=-]{1,200}$/;
/**
 * The longest a stopping gateway waits for its requests: under the cluster primary's 30 s grace and
 * Kubernetes's 40 s termination grace less its 10 s preStop sleep.
 */
const MAX_DRAIN_MS = 25_000;
/** How often Node looks for requests past HEADERS_TIMEOUT_MS / REQUEST_TIMEOUT_MS (its default is 30 s). */
const SLOW_CLIENT_CHECK_MS = 1_000;

export interface GatewayAppOptions {
  /**
   * One worker of a node:cluster: the primary runs the queue-depth exporter, answers /metrics
   * for the cluster and coordinates shutdown, so the app leaves those to it.
   */
  clusterWorker?: boolean;
}

/** Builds the gateway (not yet listening): Fastify, the Nest modules, OpenAPI and the corpus event subscription. */
export async function createGatewayApp(
  config: AppConfig,
  { clusterWorker = false }: GatewayAppOptions = {},
): Promise<NestFastifyApplication> {
  const logger = createLogger('gateway', config.LOG_LEVEL);
  const adapter = new FastifyAdapter({
    bodyLimit: config.MAX_UPLOAD_BYTES,
    // Slow clients (headers or a body trickled byte by byte) are answered 408 and closed, so they
    // cannot hold sockets and memory for ever; Fastify's own default is no limit. Node checks
    // these deadlines every connectionsCheckingInterval.
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    http: { headersTimeout: config.HEADERS_TIMEOUT_MS, connectionsCheckingInterval: SLOW_CLIENT_CHECK_MS },
    trustProxy: config.TRUST_PROXY,
    // A request that reaches a closing gateway is answered, not refused (see graceful-close.ts).
    return503OnClosing: false,
    // Route schemas reject what they do not accept: no silent coercion, no silent dropping of fields.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false } },
    schemaErrorFormatter: formatSchemaErrors,
    frameworkErrors: answerFrameworkError,
    // The client's X-Request-Id when it is a sane token, else a fresh UUID.
    genReqId: (request: IncomingMessage) => {
      const offered = request.headers['x-request-id'];
      return typeof offered === 'string' && CLIENT_REQUEST_ID.test(offered) ? offered : randomUUID();
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(
    GatewayModule.forRoot(config, { clusterWorker }),
    adapter,
    {
      logger: new NestPinoLogger(logger),
      bufferLogs: false,
    },
  );
  await registerMultipart(app, config);
  registerNdjson(app, config);
  // In a cluster the primary says once that the dashboard is off, rather than every worker.
  await registerQueueDashboard(app, config, logger, { logWhenOff: !clusterWorker });

  const fastify = app.getHttpAdapter().getInstance();
  // Callback hooks, not async ones: these run on every request, and need no promise.
  fastify.addHook('onRequest', (request, reply, done) => {
    void reply.header('x-request-id', request.id);
    setSecurityHeaders(request, reply);
    done();
  });
  if (config.CORS_ORIGINS.length > 0) await registerCors(app, config.CORS_ORIGINS);
  fastify.addHook('onSend', (_request, reply, payload, done) => {
    void reply.header('x-process-time', (reply.elapsedTime / 1000).toFixed(6));
    done(null, payload);
  });
  installHttpMetrics(
    fastify,
    app.getHttpServer(),
    app.get(GatewayMetrics),
    tenantLabeler(config.METRICS_TENANTS),
  );
  installGracefulClose(fastify, Math.min(config.QUERY_TIMEOUT_MS + 2_000, MAX_DRAIN_MS));
  // Before authentication: a shed request costs no key lookup and no Redis call.
  if (config.OVERLOAD_MAX_IN_FLIGHT > 0) registerInFlightLimit(fastify, config.OVERLOAD_MAX_IN_FLIGHT);
  installEarlyAuthentication(fastify, app.get(ApiKeyGuard));
  installCachedAnswers(fastify, app.get(QueryService));
  const thresholds = overloadThresholds(config);
  if (thresholds !== undefined) await registerOverloadShedding(fastify, thresholds);

  const openApi = new DocumentBuilder()
    .setTitle('rag-gateway')
    .setDescription('Upload documents, then ask questions answered from them. See API.md for the contract.')
    .setVersion('0.1.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'API key' })
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, openApi), {
    jsonDocumentUrl: 'docs-json',
  });

  app.connectMicroservice<MicroserviceOptions>(
    { transport: Transport.REDIS, options: redisTransportOptions(config.REDIS_URL) },
    { inheritAppConfig: true },
  );
  // A cluster worker closes when the primary tells it to (see main.ts).
  if (!clusterWorker) app.enableShutdownHooks();
  return app;
}

/** Starts the event subscription, then listens; the large backlog absorbs 1000 clients connecting at once. */
export async function startGateway(app: NestFastifyApplication, config: AppConfig): Promise<void> {
  await app.startAllMicroservices();
  await app.listen({ port: config.PORT, host: config.HOST, backlog: config.LISTEN_BACKLOG });
}
