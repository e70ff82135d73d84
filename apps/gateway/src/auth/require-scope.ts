import { RouteConfig } from '@nestjs/platform-fastify';
import type { Scope } from '#libs/contracts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope the route needs (set by @RequireScope). A non-public route without one answers 403. */
    scope?: Scope;
    /** Authenticate in onRequest, before the body is read (set by @RequireScope(..., { beforeBody: true })). */
    authenticateBeforeBody?: boolean;
  }
}

/**
 * Declares the scope a route needs (API.md, "Tenants and scopes"). It lives in the Fastify route
 * config, where both the guard and the early-authentication hook read it.
 *
 * `beforeBody` is for routes that take a body (uploads up to MAX_UPLOAD_BYTES, queries): Fastify
 * reads and parses a body before any Nest guard runs, so without it a client with no key, or with
 * a key lacking the scope, could make the gateway read and parse 10 MiB before hearing 401 or 403.
 */
export const RequireScope = (scope: Scope, options: { beforeBody?: boolean } = {}): MethodDecorator =>
  RouteConfig({ scope, authenticateBeforeBody: options.beforeBody === true });
