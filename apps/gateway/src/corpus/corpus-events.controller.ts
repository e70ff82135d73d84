import { Controller, Logger } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { EventName, type CorpusChangedEvent } from '#libs/contracts';
import { CorpusVersion } from '#libs/corpus';
import { Public } from '../auth/public.decorator.js';

/**
 * Hears `corpus.changed` from writers (ingest workers, deletes on any gateway) and moves this
 * process's corpus version, so the next query is keyed by the new version and stale answers
 * are never addressed again.
 */
@Public() // An event, not an HTTP request: the API-key guard has nothing to check.
@Controller()
export class CorpusEventsController {
  private readonly logger = new Logger(CorpusEventsController.name);

  constructor(private readonly version: CorpusVersion) {}

  @EventPattern(EventName.CorpusChanged)
  corpusChanged(@Payload() event: CorpusChangedEvent): void {
    // Pub/sub channels are shared by every deployment on the Redis server.
    if (event.namespace !== this.version.namespace || !Number.isSafeInteger(event.version)) return;
    this.version.observe(event.version);
    this.logger.debug(`corpus version ${event.version} (${event.reason} ${event.documentId})`);
  }
}
