import { createParamDecorator, UnauthorizedException, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { AuthenticatedKey } from './authenticated-key.js';

/**
 * The request's authenticated key (and so its tenant), for handlers to hand to their services.
 * The guard has set it on every protected route; on a route where it has not, failing is the only
 * safe answer.
 */
export const CurrentKey = createParamDecorator(
  (_data: unknown, context: ExecutionContext): AuthenticatedKey => {
    const key = context.switchToHttp().getRequest<FastifyRequest>().apiKey;
    if (key === undefined) throw new UnauthorizedException('Authorization: a Bearer API key is required');
    return key;
  },
);
