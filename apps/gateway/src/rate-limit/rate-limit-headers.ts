import type { FastifyReply } from 'fastify';
import { RetryLaterException } from '../http/retry-later.exception.js';
import type { RateLimitDecision } from './rate-limit.service.js';

/** Sets the RateLimit-* headers on every limited response; throws a 429 with Retry-After when over the limit. */
export function applyRateLimit(
  reply: FastifyReply,
  decision: RateLimitDecision,
  subject: 'API key' | 'tenant' | 'client address' = 'API key',
): void {
  void reply.header('ratelimit-limit', String(decision.limit));
  void reply.header('ratelimit-remaining', String(decision.remaining));
  void reply.header('ratelimit-reset', String(decision.resetSeconds));
  if (!decision.allowed) {
    throw new RetryLaterException(
      429,
      `${subject} rate limit of ${decision.limit} requests per minute exceeded; retry in ${decision.resetSeconds} s`,
      decision.resetSeconds,
    );
  }
}
