import { Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { APP_CONFIG, type AppConfig } from '#libs/config';
import { dataSourceOptions } from './data-source.js';
import { ApiKeysRepository } from './repositories/api-keys.repository.js';
import { ChunkIndexRepository } from './repositories/chunk-index.repository.js';
import { DocumentsRepository } from './repositories/documents.repository.js';
import { SearchRepository } from './repositories/search.repository.js';
import { WalPositionRepository } from './replication/wal-position.repository.js';

const REPOSITORIES = [
  ApiKeysRepository,
  ChunkIndexRepository,
  DocumentsRepository,
  SearchRepository,
  WalPositionRepository,
];

/** The pooled connection for one process, sized by DATABASE_POOL_SIZE. Migrations run apart (`npm run migrate`). */
@Module({})
export class DatabaseModule {
  static forRoot(applicationName: string): DynamicModule {
    return {
      module: DatabaseModule,
      global: true,
      imports: [
        TypeOrmModule.forRootAsync({
          inject: [APP_CONFIG],
          useFactory: (config: AppConfig) =>
            dataSourceOptions({
              url: config.DATABASE_URL,
              poolSize: config.DATABASE_POOL_SIZE,
              applicationName,
            }),
        }),
      ],
      providers: REPOSITORIES,
      exports: REPOSITORIES,
    };
  }
}
