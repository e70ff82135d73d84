/**
 * A tenant's name, branded so that only a checked value (an authenticated key's tenant, a job
 * payload we wrote, `parseTenantId`) can reach a repository: passing a bare string, or nothing,
 * does not compile.
 */
export type TenantId = string & { readonly __brand: 'TenantId' };

/** Same shape as collection names: safe in Redis keys, BullMQ job ids and metric labels. */
export const TENANT_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** Keys and documents that existed before tenants belong to this one. */
export const DEFAULT_TENANT = 'default' as TenantId;

export function isTenantId(value: unknown): value is TenantId {
  return typeof value === 'string' && TENANT_PATTERN.test(value);
}

/** Throws on a name that does not match TENANT_PATTERN. */
export function parseTenantId(value: string): TenantId {
  if (!isTenantId(value)) throw new Error(`tenant "${value}" must match ${TENANT_PATTERN.source}`);
  return value;
}

/** What a key may do; each route needs exactly one (API.md, "Tenants and scopes"). */
export const Scope = {
  DocumentsRead: 'documents:read',
  DocumentsWrite: 'documents:write',
  Query: 'query',
} as const;
export type Scope = (typeof Scope)[keyof typeof Scope];
export const ALL_SCOPES: readonly Scope[] = Object.values(Scope);

export function isScope(value: string): value is Scope {
  return (ALL_SCOPES as readonly string[]).includes(value);
}
