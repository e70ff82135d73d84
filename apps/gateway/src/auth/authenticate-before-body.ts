import { RouteConfig } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import { ApiKeyGuard } from './api-key.guard.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Set by @AuthenticateBeforeBody(). */
    authenticateBeforeBody?: boolean;
  }
}

/**
 * For routes that take a body (uploads up to MAX_UPLOAD_BYTES, queries): Fastify reads and parses
 * a body before any Nest guard runs, so without this a client with no key could make the gateway
 * read and parse 10 MiB per request before hearing 401, and a client over its rate limit could
 * go on sending bodies that fail to parse (a 400 answered before the guard counts the request).
 */
export const AuthenticateBeforeBody = (): MethodDecorator => RouteConfig({ authenticateBeforeBody: true });

/** Authenticates and rate-limits the routes marked @AuthenticateBeforeBody() in onRequest, before the body is read. */
export function installEarlyAuthentication(fastify: FastifyInstance, guard: ApiKeyGuard): void {
  fastify.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.authenticateBeforeBody === true) await guard.admit(request, reply);
  });
}
