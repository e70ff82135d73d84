import { InjectQueue } from '@nestjs/bullmq';
import { Injectable } from '@nestjs/common';
import { Job, Queue, type JobsOptions } from 'bullmq';
import { JOB_QUEUE, JobName, QueueName, type JobPayload } from '#libs/contracts';

/** The one way to enqueue: the payload type follows from the job name. */
@Injectable()
export class JobProducer {
  private readonly queues: { readonly [Q in QueueName]: Queue };

  constructor(@InjectQueue(QueueName.Ingest) ingest: Queue, @InjectQueue(QueueName.Query) query: Queue) {
    this.queues = { [QueueName.Ingest]: ingest, [QueueName.Query]: query };
  }

  queue(name: QueueName): Queue {
    return this.queues[name];
  }

  enqueue<N extends JobName>(name: N, payload: JobPayload<N>, options?: JobsOptions): Promise<Job> {
    return this.queues[JOB_QUEUE[name]].add(name, payload, options);
  }
}
