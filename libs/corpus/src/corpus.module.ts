import { Global, Module } from '@nestjs/common';
import { ClientProxyFactory, Transport } from '@nestjs/microservices';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { redisTransportOptions } from '#libs/redis';
import { CORPUS_EVENTS_CLIENT, CorpusEvents } from './corpus-events.js';
import { CorpusVersion } from './corpus-version.js';

@Global()
@Module({
  providers: [
    CorpusVersion,
    CorpusEvents,
    {
      provide: CORPUS_EVENTS_CLIENT,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) =>
        ClientProxyFactory.create({
          transport: Transport.REDIS,
          options: redisTransportOptions(config.REDIS_URL),
        }),
    },
  ],
  exports: [CorpusVersion, CorpusEvents],
})
export class CorpusModule {}
