import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter as BullBoardAdapter } from '@bull-board/fastify';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AppConfig } from '#libs/config';
import { QueueName } from '#libs/contracts';
import type { Logger } from '#libs/observability';
import { JobProducer } from '#libs/queues';
import type { ErrorBody } from '../http/http-error.filter.js';
import { RateLimitService, type RateLimitDecision } from '../rate-limit/rate-limit.service.js';
import { BasicCredentials } from './basic-credentials.js';
import { DASHBOARD_OFF_MESSAGE } from './dashboard-off.js';

export const QUEUE_DASHBOARD_PATH = '/admin/queues';

const CHALLENGE = 'Basic realm="rag-gateway queue dashboard", charset="UTF-8"';

/**
 * bull-board for every queue at /admin/queues, behind HTTP Basic auth. bull-board is a raw Fastify
 * plugin: Nest guards never run on it, and a hook on its entry route alone leaves its JSON API and
 * static assets open (felixmosh/bull-board#698, #607). So the plugin is registered inside an
 * encapsulated Fastify context whose onRequest hook runs before every route the plugin adds, page,
 * API and assets alike. Unset credentials register nothing: the path answers 404.
 */
export async function registerQueueDashboard(
  app: NestFastifyApplication,
  config: AppConfig,
  logger: Logger,
  { logWhenOff }: { logWhenOff: boolean },
): Promise<void> {
  if (config.ADMIN_USER === undefined || config.ADMIN_PASSWORD === undefined) {
    if (logWhenOff) logger.info(DASHBOARD_OFF_MESSAGE);
    return;
  }
  const producer = app.get(JobProducer, { strict: false });
  const rateLimits = app.get(RateLimitService, { strict: false });
  const credentials = new BasicCredentials(config.ADMIN_USER, config.ADMIN_PASSWORD);

  const board = new BullBoardAdapter().setBasePath(QUEUE_DASHBOARD_PATH);
  createBullBoard({
    queues: Object.values(QueueName).map((name) => new BullMQAdapter(producer.queue(name))),
    serverAdapter: board,
    options: { uiConfig: { boardTitle: 'rag-gateway' } },
  });

  await app.register(async (scope: FastifyInstance) => {
    scope.addHook('onRequest', async (request, reply) => {
      const refusal = await refuseUnlessAuthorised(request, reply, credentials, rateLimits);
      if (refusal !== undefined) return reply.send(refusal);
    });
    await scope.register(board.registerPlugin(), { prefix: QUEUE_DASHBOARD_PATH });
  });
}

/**
 * No credentials: a plain challenge (a browser's first request; nothing was guessed). Otherwise
 * the client address's budget is checked first, so once it is spent a right password is refused
 * like a wrong one, and a wrong password spends one request of it (ANONYMOUS_RATE_LIMIT_PER_MINUTE,
 * shared with failed API-key requests).
 */
async function refuseUnlessAuthorised(
  request: FastifyRequest,
  reply: FastifyReply,
  credentials: BasicCredentials,
  rateLimits: RateLimitService,
): Promise<ErrorBody | undefined> {
  const offered = credentials.check(request.headers.authorization);
  if (offered === 'absent')
    return challenge(reply, 'the queue dashboard requires ADMIN_USER / ADMIN_PASSWORD');
  const standing = await rateLimits.peekForAddress(request.ip);
  if (!standing.allowed) return tooManyAttempts(reply, standing);
  if (offered === 'valid') return undefined;
  const spent = await rateLimits.consumeForAddress(request.ip);
  if (!spent.allowed) return tooManyAttempts(reply, spent);
  return challenge(reply, 'wrong user name or password for the queue dashboard');
}

function challenge(reply: FastifyReply, message: string): ErrorBody {
  void reply.status(401).header('www-authenticate', CHALLENGE);
  return { statusCode: 401, error: 'Unauthorized', message };
}

function tooManyAttempts(reply: FastifyReply, decision: RateLimitDecision): ErrorBody {
  void reply
    .status(429)
    .header('retry-after', String(decision.resetSeconds))
    .header('ratelimit-limit', String(decision.limit))
    .header('ratelimit-remaining', '0')
    .header('ratelimit-reset', String(decision.resetSeconds));
  return {
    statusCode: 429,
    error: 'Too Many Requests',
    message: `too many failed logins from this address; retry in ${decision.resetSeconds} s`,
  };
}
