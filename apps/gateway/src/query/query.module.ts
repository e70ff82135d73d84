import { Module } from '@nestjs/common';
import { QueryController } from './query.controller.js';
import { QueryResults } from './query-results.js';
import { QueryService } from './query.service.js';

@Module({ controllers: [QueryController], providers: [QueryService, QueryResults] })
export class QueryModule {}
