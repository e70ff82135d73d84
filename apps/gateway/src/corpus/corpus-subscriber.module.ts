import { Module, type OnApplicationBootstrap } from '@nestjs/common';
import { CorpusVersion } from '#libs/corpus';
import { CorpusEventsController } from './corpus-events.controller.js';

/** Keeps this process's corpus version current: events first, a 1 s poll as the safety net. */
@Module({ controllers: [CorpusEventsController] })
export class CorpusSubscriberModule implements OnApplicationBootstrap {
  constructor(private readonly version: CorpusVersion) {}

  /** Before the server listens, so no query is keyed with a version older than Redis's. */
  async onApplicationBootstrap(): Promise<void> {
    await this.version.refresh();
    this.version.startRefreshing();
  }
}
