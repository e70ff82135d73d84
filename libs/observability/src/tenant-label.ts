/** The `tenant` label of work by a tenant not listed in METRICS_TENANTS. */
export const OTHER_TENANTS_LABEL = 'other';
/** The `tenant` label of work with no tenant: requests that did not authenticate. */
export const NO_TENANT_LABEL = 'none';

/**
 * The value of a series' `tenant` label. Tenants are created by operators and are not bounded by
 * the code, so only the tenants listed in METRICS_TENANTS get a value of their own; all others
 * share `other`. A labelled series so has at most |METRICS_TENANTS| + 2 children per combination
 * of its other labels, however many tenants exist (docs/metrics.md).
 */
export function tenantLabeler(listed: readonly string[]): (tenant: string | undefined) => string {
  const own = new Set(listed);
  return (tenant) =>
    tenant === undefined ? NO_TENANT_LABEL : own.has(tenant) ? tenant : OTHER_TENANTS_LABEL;
}
