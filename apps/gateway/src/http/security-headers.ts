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
 * The OpenAPI UI and the queue dashboard are pages: they may load their own scripts and styles
 * (both inline a style; bull-board loads its fonts from Google Fonts).
 */
const PAGE_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  ...API_SECURITY_HEADERS,
  'content-security-policy':
    "default-src 'self'; style-src 'self' 'unsafe-inline' https://fonts.googleapis.com; " +
    "font-src 'self' https://fonts.gstatic.com; img-src 'self' data:; frame-ancestors 'none'; " +
    "base-uri 'none'; form-action 'self'",
};

const isPage = (url: string) => url.startsWith('/docs') || url.startsWith('/admin/');

export function setSecurityHeaders(request: FastifyRequest, reply: FastifyReply): void {
  void reply.headers(isPage(request.url) ? PAGE_SECURITY_HEADERS : API_SECURITY_HEADERS);
}
