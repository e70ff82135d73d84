import { BullModule } from '@nestjs/bullmq';
import { Module, type DynamicModule } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { QueueName } from '#libs/contracts';
import { redisOptionsFromUrl } from '#libs/redis';
import { JobProducer } from './job-producer.js';
import { bullPrefix, queueSettings } from './queue-settings.js';

/** Registers both queues for producing (and, in workers, for @Processor consumers). */
@Module({})
export class QueuesModule {
  /**
   * `producerOnly`: HTTP-side connections fail fast when Redis is down instead of buffering
   * commands; workers keep retrying forever (`maxRetriesPerRequest: null`, as BullMQ requires).
   */
  static forRoot(options: { producerOnly: boolean }): DynamicModule {
    const queues = Object.values(QueueName).map((name) =>
      BullModule.registerQueueAsync({
        name,
        inject: [APP_CONFIG],
        useFactory: (config: AppConfig) => ({ defaultJobOptions: queueSettings(config)[name].jobOptions }),
      }),
    );
    return {
      module: QueuesModule,
      global: true,
      imports: [
        BullModule.forRootAsync({
          inject: [APP_CONFIG],
          useFactory: (config: AppConfig) => ({
            prefix: bullPrefix(config),
            connection: {
              ...redisOptionsFromUrl(config.REDIS_URL),
              ...(options.producerOnly
                ? { enableOfflineQueue: false, maxRetriesPerRequest: 1 }
                : { maxRetriesPerRequest: null }),
            },
          }),
        }),
        ...queues,
      ],
      providers: [JobProducer],
      exports: [JobProducer, ...queues],
    };
  }
}
