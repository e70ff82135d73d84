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
   * Many documents indexed: one version bump covers them all (so a trickle of uploads retires
   * cached answers a few times a second, not once per document), then one event per document.
   */
  async documentsIndexed(tenant: TenantId, documentIds: readonly string[]): Promise<number> {
    const version = await this.version.bump(tenant, await this.wal.current());
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
    return version;
  }

  async onApplicationShutdown(): Promise<void> {
    await this.client.close();
  }
}
