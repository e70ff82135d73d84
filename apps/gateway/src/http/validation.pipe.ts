import {
  BadRequestException,
  ValidationPipe,
  type ArgumentMetadata,
  type ValidationError,
} from '@nestjs/common';
import { exceedsJsonDepth } from './json-depth.js';

/**
 * Deepest nesting a request body may have. The API's deepest field is `metadata`, a free-form
 * object; 32 levels is far beyond any real use and far below where the validators' recursion
 * overflows (a few thousand).
 */
export const MAX_BODY_DEPTH = 32;

/** Flattens nested errors into "field: reason" so the message names the offending field. */
function describe(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((error) => {
    const path = parent === '' ? error.property : `${parent}.${error.property}`;
    const own = Object.values(error.constraints ?? {}).map((reason) => `${path}: ${reason}`);
    return [...own, ...describe(error.children ?? [], path)];
  });
}

/** Nest's ValidationPipe, refusing bodies too deep for class-transformer to walk before it tries. */
class BoundedValidationPipe extends ValidationPipe {
  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    if (metadata.type === 'body' && exceedsJsonDepth(value, MAX_BODY_DEPTH)) {
      throw new BadRequestException(`${deepField(value)}: nested deeper than ${MAX_BODY_DEPTH} levels`);
    }
    return super.transform(value, metadata) as Promise<unknown>;
  }
}

/** The top-level field that holds the excess nesting, for the message. */
function deepField(body: unknown): string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'body';
  const found = Object.entries(body).find(([, value]) => exceedsJsonDepth(value, MAX_BODY_DEPTH - 1));
  return found?.[0] ?? 'body';
}

export function createValidationPipe(): ValidationPipe {
  return new BoundedValidationPipe({
    transform: true,
    whitelist: true,
    forbidNonWhitelisted: true,
    // A repeated query parameter fails each constraint once per value: say each reason once.
    exceptionFactory: (errors) => new BadRequestException([...new Set(describe(errors))].join('; ')),
  });
}
