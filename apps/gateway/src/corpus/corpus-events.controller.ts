import { Controller, Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { EventName, isTenantId, type CorpusChangedEvent } from '#libs/contracts';
import { CorpusVersion } from '#libs/corpus';
import { Public } from '../auth/public.decorator.js';

/**
 * Hears `corpus.changed` from writers (ingest workers, deletes on any gateway) and moves this
 * process's corpus version of that tenant, so the tenant's next query is keyed by the new version
 * and its stale answers are never addressed again.
 */
@Public() // An event, not an HTTP request: the API-key guard has nothing to check.
@Controller()
export class CorpusEventsController {
  private readonly logger = new Logger(CorpusEventsController.name);

  constructor(private readonly version: CorpusVersion) {}

  @EventPattern(EventName.CorpusChanged)
  corpusChanged(@Payload() event: CorpusChangedEvent): void {
    // Pub/sub channels are shared by every deployment on the Redis server.
    if (
      event.namespace !== this.version.namespace ||
      !isTenantId(event.tenant) ||
      !Number.isSafeInteger(event.version)
    ) {
      return;
    }
    this.version.observe(event.tenant, event.version);
    this.logger.debug(
      `corpus version ${event.version} of ${event.tenant} (${event.reason} ${event.documentId})`,
    );
  }
}
