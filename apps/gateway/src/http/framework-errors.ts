import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { ErrorBody } from './http-error.filter.js';
import { API_SECURITY_HEADERS } from './security-headers.js';

/**
 * Fastify answers a few malformed URLs itself, before any hook or Nest filter runs, in a shape
 * of its own that echoes the path. This gives them the API's error shape and headers.
 */
export function answerFrameworkError(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const body: ErrorBody =
    error.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? { statusCode: 414, error: 'URI Too Long', message: 'path: a path parameter is too long' }
      : { statusCode: 400, error: 'Bad Request', message: 'path: is not a valid URL (bad percent-encoding)' };
  void reply
    .status(body.statusCode)
    .headers(API_SECURITY_HEADERS)
    .header('x-request-id', request.id)
    .send(body);
}
