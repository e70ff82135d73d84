import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import { QueueName } from '#libs/contracts';
import { bullPrefix } from '#libs/queues';
import {
  chunkProblems,
  faultDocument,
  settledReport,
  taggedDocument,
  waitUntilSettled,
} from './support/fault-documents.js';
import { LoadClient, loop, sleep } from './support/fault-load.js';
import { FaultStack } from './support/fault-stack.js';
import { warmCache } from './support/outage-run.js';
import { isRunning } from './support/pid.js';
import { waitFor } from './support/test-environment.js';

const CLIENTS = Number(process.env.FAULT_CLIENTS ?? 500);
/** Uploads per worker test: enough that the worker has jobs in hand and more waiting. */
const BATCH = Number(process.env.FAULT_BATCH ?? 40);
const WARM_QUESTIONS = [
  'how do I reset my password',
  'when does the reset link expire',
  'who can force a password reset',
  'where is the security tab',
];

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

/**
 * Processes told to stop, or killed, under load (issue 6, suite 3): a gateway process gets SIGTERM
 * while clients keep sending; workers get SIGTERM or SIGKILL in the middle of their jobs.
 */
describe('faults: processes stopped and killed', () => {
  let stack: FaultStack;

  before(async () => {
    stack = await FaultStack.start({
      // Recovery from a killed worker waits for its locks: at most this plus the stalled-job check
      // (the same 10 s here). The default, 60 s, would make the test wait a minute and a half.
      INGEST_LOCK_DURATION_MS: '10000',
      INGEST_CONCURRENCY: '4',
      // Many chunks per document, so that a job takes long enough to be stopped in the middle.
      CHUNK_SIZE: '200',
      CHUNK_OVERLAP: '20',
      // The clients share one key: its budget is not under test here.
      DEFAULT_RATE_LIMIT_PER_MINUTE: '1000000',
    });
  });
  after(async () => {
    await queue?.close();
    await stack?.destroy();
  });

  let queue: Queue;
  /** Uploads a batch of tagged documents through the gateway; returns their contents by title. */
  async function uploadBatch(prefix: string, count: number, paragraphs = 40): Promise<Map<string, string>> {
    const client = new LoadClient(() => stack.app('gateway').baseUrl, stack.token, 8);
    try {
      const documents = Array.from({ length: count }, (_, i) => taggedDocument(`${prefix}-${i}`, paragraphs));
      const outcomes = await Promise.all(documents.map((d) => client.upload(d.title, d.content)));
      assert.deepEqual(
        outcomes.filter((o) => o.status !== 202).map((o) => `${o.status} ${JSON.stringify(o.body)}`),
        [],
      );
      return new Map(documents.map((d) => [d.title, d.content]));
    } finally {
      await client.close();
    }
  }

  /** Waits until the ingest queue has jobs in hand, and returns their ids. */
  async function activeJobs(): Promise<string[]> {
    return waitFor(
      async () => {
        const ids = (await queue.getActive()).map((job) => job.id ?? '');
        return ids.length > 0 ? ids : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 20, what: 'ingest jobs in hand' },
    );
  }

  it(`loses no request when a gateway process gets SIGTERM while ${CLIENTS} clients send requests`, async (t) => {
    const [gateway] = await Promise.all([
      // While one process drains, the other takes every client: its in-flight limit would shed
      // some with 503 + Retry-After on a busy machine, which is tested on its own
      // (in-flight-limit.spec.ts); here no request may be lost to the shutdown.
      stack.startApp('gateway', { GATEWAY_WORKERS: '2', OVERLOAD_MAX_IN_FLIGHT: String(CLIENTS) }),
      stack.startApp('ingest-worker'),
      stack.startApp('query-worker'),
    ]);
    const workers = await waitFor(
      async () => {
        const pids = await gateway.childPids();
        return pids.length === 2 ? pids : undefined;
      },
      { timeoutMs: 60_000, what: 'two gateway workers' },
    );
    const seed = faultDocument('seed');
    const client = new LoadClient(() => gateway.baseUrl, stack.token, CLIENTS);
    try {
      assert.equal((await client.upload(seed.title, seed.content)).status, 202);
      await waitUntilSettled(stack.config.DATABASE_URL, [seed.title]);
      await warmCache(client, WARM_QUESTIONS);
      const warmed = client.outcomes.length;

      let stop = false;
      const load = loop(
        CLIENTS,
        () => stop,
        (i) => client.query('query', WARM_QUESTIONS[i % WARM_QUESTIONS.length]),
        200,
      );
      await sleep(3_000);
      const [victim] = workers;
      const signalledAt = Date.now();
      process.kill(victim, 'SIGTERM');
      await waitFor(() => Promise.resolve(isRunning(victim) ? undefined : true), {
        timeoutMs: 40_000,
        what: `gateway worker ${victim} to exit`,
      });
      const exitedAfterMs = Date.now() - signalledAt;
      await sleep(3_000);
      stop = true;
      await load;

      const outcomes = client.outcomes.slice(warmed);
      const failed = outcomes.filter((o) => o.status !== 200);
      t.diagnostic(
        `${outcomes.length} requests from ${CLIENTS} keep-alive clients; gateway worker ${victim} of 2 got SIGTERM ` +
          `3 s in and exited after ${exitedAfterMs} ms; answers ${JSON.stringify(client.counts((o) => outcomes.includes(o)))}`,
      );
      assert.deepEqual(
        failed
          .slice(0, 10)
          .map(
            (o) => `${o.at - signalledAt} ms after SIGTERM: ${o.status} ${o.error ?? JSON.stringify(o.body)}`,
          ),
        [],
        `${failed.length} failed requests`,
      );
      assert.ok(gateway.running, 'the primary exited');
    } finally {
      await client.close();
    }
  });

  it('finishes or requeues the jobs in hand when an ingest worker gets SIGTERM: none failed, none lost', async (t) => {
    queue = new Queue(QueueName.Ingest, {
      connection: { host: '127.0.0.1', port: stack.redis.port },
      prefix: bullPrefix(stack.config),
    });
    queue.on('error', () => undefined);
    const worker = stack.app('ingest-worker');
    const failedBefore = await queue.getFailedCount();
    const contents = await uploadBatch('drain', BATCH);
    const inHand = await activeJobs();
    const signalledAt = Date.now();
    const exit = await worker.stop(60_000);
    const stoppedAfterMs = Date.now() - signalledAt;
    // Nest closes the app, then ends the process with the signal it got: the clean exit.
    assert.deepEqual(exit, { code: null, signal: 'SIGTERM' }, worker.tail());
    const states = await Promise.all(inHand.map((id) => queue.getJobState(id)));
    await stack.startApp('ingest-worker', {}, 'ingest-worker-2');
    const rows = await waitUntilSettled(stack.config.DATABASE_URL, [...contents.keys()]);
    const report = settledReport([...contents.keys()], rows);
    const failedJobs = (await queue.getFailedCount()) - failedBefore;
    t.diagnostic(
      `${BATCH} uploads; SIGTERM with ${inHand.length} jobs in hand; the worker exited after ${stoppedAfterMs} ms, ` +
        `leaving them ${JSON.stringify(countBy(states))}; ${report.indexed} indexed, ${report.failed} failed, ` +
        `lost ${report.lost}, failed jobs ${failedJobs}`,
    );
    assert.deepEqual(report.problems, []);
    assert.equal(failedJobs, 0);
    assert.ok(
      states.every((state) => state === 'completed' || state === 'waiting'),
      `jobs in hand ended ${JSON.stringify(states)}`,
    );
    assert.deepEqual(await chunkProblems(stack.config.DATABASE_URL, contents), []);
  });

  it('indexes every document with exactly its own chunks when an ingest worker is SIGKILLed mid-batch', async (t) => {
    const worker = stack.app('ingest-worker-2');
    const failedBefore = await queue.getFailedCount();
    // Long jobs (about 600 chunks each): the kill, sent within milliseconds of seeing jobs in
    // hand, lands in the middle of them.
    const contents = await uploadBatch('killed', BATCH, 160);
    const inHand = await activeJobs();
    await worker.kill();
    const killedAt = Date.now();
    await stack.startApp('ingest-worker', {}, 'ingest-worker-3');
    const rows = await waitUntilSettled(stack.config.DATABASE_URL, [...contents.keys()]);
    const settledAfterMs = Date.now() - killedAt;
    const report = settledReport([...contents.keys()], rows);
    const failedJobs = (await queue.getFailedCount()) - failedBefore;
    // BullMQ counts a job taken back from a dead worker in its stalledCounter.
    const recovered = (await Promise.all(inHand.map((id) => queue.getJob(id)))).filter(
      (job) => (job?.stalledCounter ?? 0) > 0,
    ).length;
    t.diagnostic(
      `${BATCH} uploads; SIGKILL with ${inHand.length} jobs in hand (${recovered} of them taken back from the dead worker after its lock expired); ` +
        `all settled ${settledAfterMs} ms after the kill: ${report.indexed} indexed, ${report.failed} failed, ` +
        `lost ${report.lost}, failed jobs ${failedJobs}`,
    );
    assert.deepEqual(report.problems, []);
    assert.equal(failedJobs, 0);
    assert.ok(recovered > 0, 'no job was cut off by the kill: the test did not test recovery');
    assert.deepEqual(await chunkProblems(stack.config.DATABASE_URL, contents), []);
  });
});
