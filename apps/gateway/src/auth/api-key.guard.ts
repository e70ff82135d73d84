import {
  ForbiddenException,
  Injectable,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { applyRateLimit } from '../rate-limit/rate-limit-headers.js';
import { RateLimitService } from '../rate-limit/rate-limit.service.js';
import { ApiKeyStore } from './api-key-store.js';
import type { AuthenticatedKey } from './authenticated-key.js';
import { IS_PUBLIC } from './public.decorator.js';
import './require-scope.js';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * Global guard: every HTTP route needs `Authorization: Bearer <api key>` unless it is @Public().
 * Then each request counts against its key's rate limit (and its tenant's, when the tenant has
 * one); a request that fails authentication counts against its client address instead, which
 * throttles key guessing. Last, the key must hold the route's scope (@RequireScope). Public routes
 * (health probes, metrics) are never rate limited: a throttled probe would restart a healthy process.
 */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly keys: ApiKeyStore,
    private readonly rateLimits: RateLimitService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    // Global guards also wrap the gateway's event handlers (corpus.changed over Redis), which carry no key.
    if (context.getType() !== 'http') return true;
    const isPublic = this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC, [
      context.getHandler(),
      context.getClass(),
    ]);
    if (isPublic === true) return true;

    const http = context.switchToHttp();
    const request = http.getRequest<FastifyRequest>();
    // Routes with a body were admitted before it was read (authenticate-before-body.ts).
    if (request.apiKey === undefined) await this.admit(request, http.getResponse<FastifyReply>());
    return true;
  }

  /**
   * Authenticates, counts the request against its key's (and tenant's) budget (429 past it), checks
   * the route's scope (403). Sets `request.apiKey` only once all passed, so each request is counted
   * exactly once.
   */
  async admit(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const key = await this.authenticate(request, reply);
    applyRateLimit(reply, await this.rateLimits.consumeForKey(key.id, key.rateLimit));
    if (key.tenantRateLimit !== null) {
      const tenantDecision = await this.rateLimits.consumeForTenant(key.tenant, key.tenantRateLimit);
      // The key's headers stand unless the tenant's budget is the one that ran out.
      if (!tenantDecision.allowed) applyRateLimit(reply, tenantDecision, 'tenant');
    }
    const scope = request.routeOptions.config.scope;
    // A protected route that declares no scope is a bug: fail closed rather than let every key in.
    if (scope === undefined) throw new ForbiddenException('this route declares no scope; no key may use it');
    if (!key.scopes.has(scope)) {
      throw new ForbiddenException(`scope: this API key lacks the "${scope}" scope this route needs`);
    }
    request.apiKey = key;
  }

  /** The request's key, or 401 (counted against the client address, which throttles key guessing). */
  private async authenticate(request: FastifyRequest, reply: FastifyReply): Promise<AuthenticatedKey> {
    const token = BEARER.exec(request.headers.authorization ?? '')?.[1];
    const key =
      token === undefined ? undefined : (this.keys.find(token) ?? (await this.keys.findFresh(token)));
    if (key !== undefined) return key;
    applyRateLimit(reply, await this.rateLimits.consumeForAddress(request.ip), 'client address');
    void reply.header('www-authenticate', 'Bearer');
    throw new UnauthorizedException(
      token === undefined
        ? 'Authorization: a Bearer API key is required'
        : 'Authorization: the API key is unknown or revoked',
    );
  }
}
