import type { FastifyInstance } from 'fastify';
import { ApiKeyGuard } from './api-key.guard.js';

/**
 * Admits the routes marked @RequireScope(..., { beforeBody: true }) in onRequest (key, rate limit,
 * scope), before the body is read; the guard then finds the request admitted.
 */
export function installEarlyAuthentication(fastify: FastifyInstance, guard: ApiKeyGuard): void {
  fastify.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.authenticateBeforeBody === true) await guard.admit(request, reply);
  });
}
