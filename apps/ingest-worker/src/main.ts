import 'reflect-metadata';
import { loadConfig } from '#libs/config';
import { createIngestWorkerApp } from './ingest-worker.app.js';

await createIngestWorkerApp(loadConfig());
