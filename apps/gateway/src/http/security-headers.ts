import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Headers every API answer carries: nothing the gateway sends may be sniffed, framed or run as a
 * page, even if a client mislabels a body. Set as one constant object from the onRequest hook
 * the gateway already has, rather than through @fastify/helmet, which computes each header per
 * request in a hook of its own (docs/adr/0018-security-headers-and-cors.md has the figures).
 */
export const API_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
  'cross-origin-opener-policy': 'same-origin',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-permitted-cross-domain-policies': 'none',
  'x-dns-prefetch-control': 'off',
};

/**
 * The OpenAPI UI is a page: it may load its own scripts and styles (it inlines a style).
 */
const PAGE_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  ...API_SECURITY_HEADERS,
  'content-security-policy':
    "default-src 'self'; style-src 'self' 'unsafe-inline' https://fonts.googleapis.com; " +
    "font-src 'self' https://fonts.gstatic.com; img-src 'self' data:; frame-ancestors 'none'; " +
    "base-uri 'none'; form-action 'self'",
};

/**
 * bull-board's page runs an inline script, which a policy of 'self' blocks: until a policy written
 * for it passes the dashboard's browser test, the dashboard gets every header but the CSP.
 */
const DASHBOARD_SECURITY_HEADERS: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(API_SECURITY_HEADERS).filter(([name]) => name !== 'content-security-policy'),
);

function headersFor(url: string): Readonly<Record<string, string>> {
  if (url.startsWith('/admin/')) return DASHBOARD_SECURITY_HEADERS;
  return url.startsWith('/docs') ? PAGE_SECURITY_HEADERS : API_SECURITY_HEADERS;
}

export function setSecurityHeaders(request: FastifyRequest, reply: FastifyReply): void {
  void reply.headers(headersFor(request.url));
}
