import 'reflect-metadata';
import { loadConfig } from '#libs/config';
import { createQueryWorkerApp } from './query-worker.app.js';

await createQueryWorkerApp(loadConfig());
