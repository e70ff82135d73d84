import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { MAX_QUERY_LENGTH, type QueryRequestBody } from './query.dto.js';
import { JSON_CONTENT_TYPE, queryResponseJson, tookMs } from './query-response.js';
import type { QueryService } from './query.service.js';

/** The route whose hits are answered here; the controller answers everything else on it. */
const QUERY_ROUTE = { method: 'POST', url: '/query' } as const;

/**
 * Answers POST /query from this process's cache before Nest's pipeline (ADR 0007, ADR 0028): by
 * the preHandler stage the request was authenticated, rate limited and scope-checked
 * (authenticate-before-body.ts) and its body validated by the route schema, so a hit needs only
 * the cache lookup. Guards, parameter decorators and the handler's promise chain cost more than
 * the lookup itself. A miss, or a body the controller must refuse, goes on to the controller,
 * which answers exactly as before; a hit's answer is byte for byte the controller's.
 */
export function installCachedAnswers(fastify: FastifyInstance, queries: QueryService): void {
  const answerHit: preHandlerAsyncHookHandler = async (request: FastifyRequest, reply: FastifyReply) => {
    const key = request.apiKey;
    const body = request.body as QueryRequestBody;
    if (key === undefined) return;
    const query = body.query.trim();
    if (query.length === 0 || query.length > MAX_QUERY_LENGTH) return;
    const members = queries.fromMemory(key.tenant, query, body.top_k, body.collection ?? null);
    if (members === undefined) return;
    void reply.header('x-cache', 'HIT').type(JSON_CONTENT_TYPE);
    return reply.send(queryResponseJson(query, members, true, tookMs(reply)));
  };
  let installed = false;
  fastify.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (route.url !== QUERY_ROUTE.url || !methods.includes(QUERY_ROUTE.method)) return;
    const existing = route.preHandler === undefined ? [] : [route.preHandler].flat();
    route.preHandler = [...existing, answerHit];
    installed = true;
  });
  // A renamed route would silently lose its fast path: refuse to start instead.
  fastify.addHook('onReady', (done) => {
    done(
      installed
        ? undefined
        : new Error(`no ${QUERY_ROUTE.method} ${QUERY_ROUTE.url} route to answer cached queries on`),
    );
  });
}
