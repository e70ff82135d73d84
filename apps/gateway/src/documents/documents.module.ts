import { Module } from '@nestjs/common';
import { DocumentsController } from './documents.controller.js';
import { DocumentsService } from './documents.service.js';
import { IngestBacklog } from './ingest-backlog.js';

@Module({ controllers: [DocumentsController], providers: [DocumentsService, IngestBacklog] })
export class DocumentsModule {}
