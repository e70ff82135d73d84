import type { TenantId } from './tenants.js';

/** Broadcast events (Redis pub/sub through @nestjs/microservices): every subscriber hears every message. */
export const EventName = {
  CorpusChanged: 'corpus.changed',
} as const;
export type EventName = (typeof EventName)[keyof typeof EventName];

export interface CorpusChangedEvent {
  /**
   * Key prefix of the deployment that emitted it. Pub/sub channels are not prefixed,
   * so subscribers ignore events from other deployments sharing the Redis server.
   */
  namespace: string;
  /** Whose corpus changed: versions are per tenant. */
  tenant: TenantId;
  /** The tenant's corpus version after the change; subscribers keep the highest they have seen. */
  version: number;
  reason: 'indexed' | 'deleted' | 'failed';
  documentId: string;
}
