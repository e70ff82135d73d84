import type { Scope, TenantId } from '#libs/contracts';

/** The API key a request authenticated with, as the guard puts it on the request. */
export interface AuthenticatedKey {
  id: string;
  name: string;
  /** Everything the request reads or changes is inside this tenant. */
  tenant: TenantId;
  scopes: ReadonlySet<Scope>;
  /** Requests per minute; null means DEFAULT_RATE_LIMIT_PER_MINUTE. */
  rateLimit: number | null;
  /** Requests per minute over all the tenant's keys; null: no tenant-wide limit. */
  tenantRateLimit: number | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by ApiKeyGuard on every route that is not @Public() (before the body on `beforeBody` routes). */
    apiKey?: AuthenticatedKey;
  }
}
