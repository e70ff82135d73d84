import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { ClientProxy } from '@nestjs/microservices';
import { lastValueFrom } from 'rxjs';
import { EventName, type CorpusChangedEvent, type TenantId } from '#libs/contracts';
import { WalPositionRepository } from '#libs/database';
import { CorpusVersion } from './corpus-version.js';

export const CORPUS_EVENTS_CLIENT = Symbol('CORPUS_EVENTS_CLIENT');

/** Bumps the tenant's corpus version and tells every gateway process, after a change is committed. */
@Injectable()
export class CorpusEvents implements OnApplicationShutdown {
  constructor(
    @Inject(CORPUS_EVENTS_CLIENT) private readonly client: ClientProxy,
    private readonly version: CorpusVersion,
    private readonly wal: WalPositionRepository,
  ) {}

  async corpusChanged(
    tenant: TenantId,
    reason: CorpusChangedEvent['reason'],
    documentId: string,
  ): Promise<number> {
    // Read replicas serve this version only once they have replayed past this position (ADR 0014).
    const version = await this.version.bump(tenant, await this.wal.current());
    const event: CorpusChangedEvent = {
      namespace: this.version.namespace,
      tenant,
      version,
      reason,
      documentId,
    };
    await lastValueFrom(this.client.emit(EventName.CorpusChanged, event), { defaultValue: undefined });
    return version;
  }

  /**
   * The version that will cover documents whose chunks are committed now, not yet published:
   * the publisher may compute answers under it before `documentsIndexed` announces it.
   */
  async reserveVersion(tenant: TenantId): Promise<number> {
    return this.version.reserve(tenant, await this.wal.current());
  }

  /**
   * Many documents indexed: one reserved version covers them all (so a trickle of uploads retires
   * cached answers a few times a second, not once per document); publishes it, then one event
   * per document.
   */
  async documentsIndexed(tenant: TenantId, version: number, documentIds: readonly string[]): Promise<void> {
    await this.version.publish(tenant, version);
    for (const documentId of documentIds) {
      const event: CorpusChangedEvent = {
        namespace: this.version.namespace,
        tenant,
        version,
        reason: 'indexed',
        documentId,
      };
      await lastValueFrom(this.client.emit(EventName.CorpusChanged, event), { defaultValue: undefined });
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
  }
}
