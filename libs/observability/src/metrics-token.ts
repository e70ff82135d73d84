import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * Whether an `Authorization` header carries `Bearer <METRICS_TOKEN>`; always true when no token is
 * set. Compared as SHA-256 digests (equal lengths) in constant time. Used by the workers'
 * /metrics, protected like the gateway's (MetricsController).
 */
export function metricsAuthorization(
  token: string | undefined,
): (authorization: string | undefined) => boolean {
  if (token === undefined) return () => true;
  const expected = digest(`Bearer ${token}`);
  return (authorization) => timingSafeEqual(digest(authorization ?? ''), expected);
}
