import { InjectQueue } from '@nestjs/bullmq';
import { Injectable, type BeforeApplicationShutdown } from '@nestjs/common';
import { Job, Queue, type JobsOptions } from 'bullmq';
import { disconnectWhileRedisIsDown } from './close-bullmq.js';
import { JOB_QUEUE, JobName, QueueName, type JobPayload } from '#libs/contracts';

/** The one way to enqueue: the payload type follows from the job name. */
@Injectable()
export class JobProducer implements BeforeApplicationShutdown {
  private readonly queues: { readonly [Q in QueueName]: Queue };

  constructor(@InjectQueue(QueueName.Ingest) ingest: Queue, @InjectQueue(QueueName.Query) query: Queue) {
    this.queues = { [QueueName.Ingest]: ingest, [QueueName.Query]: query };
  }

  queue(name: QueueName): Queue {
    return this.queues[name];
  }

  /**
   * @nestjs/bullmq closes the queues last; while Redis is down that close would wait for it
   * forever. (A queue closed meanwhile fails its callers at once, as it would without Redis.)
   */
  beforeApplicationShutdown(): void {
    disconnectWhileRedisIsDown(Object.values(this.queues));
  }

  enqueue<N extends JobName>(name: N, payload: JobPayload<N>, options?: JobsOptions): Promise<Job> {
    return this.queues[JOB_QUEUE[name]].add(name, payload, options);
  }

  /** Many jobs of one name in one Redis round trip (BullMQ addBulk, atomic). */
  enqueueMany<N extends JobName>(
    name: N,
    jobs: readonly { payload: JobPayload<N>; options?: JobsOptions }[],
  ): Promise<Job[]> {
    return this.queues[JOB_QUEUE[name]].addBulk(
      jobs.map((job) => ({ name, data: job.payload, opts: job.options })),
    );
  }
}
