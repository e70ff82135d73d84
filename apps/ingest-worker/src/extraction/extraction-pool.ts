import { Worker } from 'node:worker_threads';
import type { ExtractionOutcome, ExtractionTask } from './extraction-task.js';

export interface ExtractionLimits {
  /** Threads at once: one per concurrent ingest job. */
  threads: number;
  /** Wall-clock time one document may take before its thread is terminated. */
  timeoutMs: number;
  /** V8 heap of one thread (old generation), in MB; past it the thread dies, not the process. */
  memoryMb: number;
}

/** The thread stopped before answering: timed out, out of memory, or crashed. */
export class ExtractionAbortedError extends Error {}

const THREAD_FILE = new URL('./extraction.thread.js', import.meta.url);

/**
 * A small pool of reusable extraction threads. Each runs one document at a time under a time
 * limit (the pool terminates a thread that overruns) and a heap limit (worker_threads
 * `resourceLimits`: V8 kills the thread, not the process). A thread that failed is discarded and
 * replaced on demand; one that answered is reused, so a small document does not pay a thread
 * start. Written here rather than taken from piscina because the pool must know which task a
 * dying thread was running, to tell the uploader why their document failed.
 */
export class ExtractionPool {
  private readonly idle: Worker[] = [];
  private readonly busy = new Set<Worker>();
  private readonly queue: Array<(worker: Worker) => void> = [];
  private readonly ready = new WeakMap<Worker, Promise<void>>();
  private closed = false;

  /** `threadFile` is the thread's entry point; tests swap in one that misbehaves on purpose. */
  constructor(
    private readonly limits: ExtractionLimits,
    private readonly threadFile: URL = THREAD_FILE,
  ) {}

  async run(task: ExtractionTask): Promise<ExtractionOutcome> {
    const worker = await this.acquire();
    let healthy = false;
    try {
      const outcome = await this.runOn(worker, task);
      healthy = true;
      return outcome;
    } finally {
      this.release(worker, healthy);
    }
  }

  /** Terminates every thread; tasks still running reject. */
  async close(): Promise<void> {
    this.closed = true;
    const workers = [...this.idle, ...this.busy];
    this.idle.length = 0;
    await Promise.all(workers.map((worker) => worker.terminate()));
  }

  private acquire(): Promise<Worker> {
    // Not the document's fault: a plain error, so the job is retried by another worker.
    if (this.closed) return Promise.reject(new Error('the extraction pool is closed'));
    const idle = this.idle.pop();
    if (idle !== undefined) return Promise.resolve(this.claim(idle));
    if (this.busy.size < this.limits.threads) return Promise.resolve(this.claim(this.spawn()));
    return new Promise((resolve) => this.queue.push(resolve));
  }

  private claim(worker: Worker): Worker {
    this.busy.add(worker);
    return worker;
  }

  private release(worker: Worker, healthy: boolean): void {
    this.busy.delete(worker);
    if (!healthy) void worker.terminate();
    if (this.closed) {
      if (healthy) void worker.terminate();
      return;
    }
    const next = this.queue.shift();
    if (next !== undefined) next(this.claim(healthy ? worker : this.spawn()));
    else if (healthy) this.idle.push(worker);
  }

  private spawn(): Worker {
    const worker = new Worker(this.threadFile, {
      resourceLimits: { maxOldGenerationSizeMb: this.limits.memoryMb },
    });
    // The thread says when its parsers are loaded; a slow start (a busy machine) is not the
    // document's fault and must not count against its time limit.
    this.ready.set(
      worker,
      new Promise<void>((resolve, reject) => {
        worker.once('message', () => resolve());
        worker.once('error', reject);
        worker.once('exit', (code) => reject(new Error(`extraction thread exited at start (code ${code})`)));
      }),
    );
    // An idle thread must not keep the process alive.
    worker.unref();
    return worker;
  }

  private async runOn(worker: Worker, task: ExtractionTask): Promise<ExtractionOutcome> {
    await this.ready.get(worker);
    return new Promise<ExtractionOutcome>((resolve, reject) => {
      const settle = (): void => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
      };
      const onMessage = (outcome: ExtractionOutcome): void => {
        settle();
        resolve(outcome);
      };
      const onError = (error: Error & { code?: string }): void => {
        settle();
        reject(
          new ExtractionAbortedError(
            error.code === 'ERR_WORKER_OUT_OF_MEMORY'
              ? `Reading the document needed more than ${this.limits.memoryMb} MB of memory and was stopped`
              : `Reading the document crashed: ${error.message.split('\n')[0]}`,
          ),
        );
      };
      const onExit = (code: number): void => {
        settle();
        reject(
          this.closed
            ? new Error('the extraction pool closed during the task')
            : new ExtractionAbortedError(`Reading the document stopped unexpectedly (exit code ${code})`),
        );
      };
      const timer = setTimeout(() => {
        settle();
        reject(
          new ExtractionAbortedError(
            `Reading the document took longer than ${formatSeconds(this.limits.timeoutMs)} and was stopped`,
          ),
        );
      }, this.limits.timeoutMs);
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.postMessage(task, [task.body.buffer as ArrayBuffer]);
    });
  }
}

function formatSeconds(ms: number): string {
  const seconds = ms / 1000;
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)} s`;
}
