export * from './configured-processor.js';
export * from './job-producer.js';
export * from './queue-settings.js';
export * from './queues.module.js';
export * from './queue-depth-exporter.js';
export * from './close-bullmq.js';
