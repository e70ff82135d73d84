import { createHash } from 'node:crypto';

/** Tokens are random and long, so a fast unsalted hash is enough and keeps lookups O(1). */
export function hashApiKey(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
