import type { FastifySchemaValidationError } from 'fastify/types/schema.js';

/**
 * Fastify's route-schema errors, worded like the class-validator ones: the message starts with
 * the offending field ("top_k: must be <= 50", "topk: is not an accepted field").
 */
export function formatSchemaErrors(errors: FastifySchemaValidationError[]): Error {
  const messages = errors.map((error) => {
    const params = error.params as { additionalProperty?: string; missingProperty?: string };
    if (params.additionalProperty !== undefined)
      return `${params.additionalProperty}: is not an accepted field`;
    if (params.missingProperty !== undefined) return `${params.missingProperty}: is required`;
    const field = error.instancePath.replace(/^\//, '').replaceAll('/', '.');
    return `${field === '' ? 'body' : field}: ${error.message ?? 'is invalid'}`;
  });
  return Object.assign(new Error(messages.join('; ')), { statusCode: 400 });
}
