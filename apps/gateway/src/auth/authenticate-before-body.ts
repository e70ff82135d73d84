import type { FastifyInstance } from 'fastify';
import { ApiKeyGuard } from './api-key.guard.js';

/**
 * Admits the routes marked @RequireScope(..., { beforeBody: true }) in onRequest (key, rate limit,
 * scope), before the body is read; the guard then finds the request admitted. Routes that take a
 * body (uploads up to MAX_UPLOAD_BYTES, queries) need it: Fastify reads and parses a body before any
 * Nest guard runs, so a client with no key could otherwise make the gateway read 10 MiB before
 * hearing 401, and a client over its rate limit could go on sending bodies that fail to parse.
 */
export function installEarlyAuthentication(fastify: FastifyInstance, guard: ApiKeyGuard): void {
  fastify.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.authenticateBeforeBody === true) await guard.admit(request, reply);
  });
}
