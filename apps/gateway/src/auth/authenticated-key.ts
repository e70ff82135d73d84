/** The API key a request authenticated with, as the guard puts it on the request. */
export interface AuthenticatedKey {
  id: string;
  name: string;
  /** Requests per minute; null means DEFAULT_RATE_LIMIT_PER_MINUTE. */
  rateLimit: number | null;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by ApiKeyGuard once the request is authenticated and within its rate limit, on every route that is not @Public() (before the body on @AuthenticateBeforeBody() routes). */
    apiKey?: AuthenticatedKey;
  }
}
