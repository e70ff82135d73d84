import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { ExtractionAbortedError, ExtractionPool } from './extraction-pool.js';
import type { ExtractionTask } from './extraction-task.js';

/** A stand-in thread that does what the task's mimeType says: answer, hang, or eat its heap. */
const MISBEHAVING_THREAD = `
import { parentPort } from 'node:worker_threads';
parentPort.on('message', (task) => {
  if (task.mimeType === 'hang') for (;;) {}
  if (task.mimeType === 'oom') { const hog = []; for (;;) hog.push(new Array(100_000).fill(hog.length)); }
  parentPort.postMessage({ ok: true, text: String(task.body.byteLength), chunks: [] });
});
parentPort.postMessage('ready');`;

const task = (mimeType: string): ExtractionTask => ({
  body: new Uint8Array(3),
  mimeType,
  chunkSize: 1000,
  chunkOverlap: 0,
  declaredLanguage: undefined,
  maxExpandedBytes: 1 << 20,
});

describe('ExtractionPool', () => {
  let directory: string;
  let pool: ExtractionPool;

  before(async () => {
    directory = await mkdtemp(join(tmpdir(), 'extraction-pool-'));
    const file = join(directory, 'thread.mjs');
    await writeFile(file, MISBEHAVING_THREAD);
    pool = new ExtractionPool({ threads: 2, timeoutMs: 4_000, memoryMb: 32 }, pathToFileURL(file));
    // Both threads started before the limits are put to the test: a slow thread start on a busy
    // machine must not count against a task.
    await Promise.all([pool.run(task('ok')), pool.run(task('ok'))]);
  });
  after(async () => {
    await pool.close();
    await rm(directory, { recursive: true, force: true });
  });

  it('stops a task that hangs at the time limit, while the other thread keeps answering', async () => {
    const hanging = pool.run(task('hang'));
    // The hung thread blocks only itself: the second thread answers meanwhile, and so does this event loop.
    assert.deepEqual(await pool.run(task('ok')), { ok: true, text: '3', chunks: [] });
    await assert.rejects(hanging, (error: unknown) => {
      assert.ok(error instanceof ExtractionAbortedError);
      assert.equal(error.message, 'Reading the document took longer than 4 s and was stopped');
      return true;
    });
  });

  it('stops a task that exhausts its heap, and the process lives on', async () => {
    await assert.rejects(pool.run(task('oom')), (error: unknown) => {
      assert.ok(error instanceof ExtractionAbortedError);
      assert.equal(error.message, 'Reading the document needed more than 32 MB of memory and was stopped');
      return true;
    });
  });

  it('replaces the threads it stopped and queues tasks beyond its size', async () => {
    const answers = await Promise.all([1, 2, 3, 4, 5].map(() => pool.run(task('ok'))));
    assert.equal(answers.length, 5);
    for (const answer of answers) assert.deepEqual(answer, { ok: true, text: '3', chunks: [] });
  });

  it('refuses work once closed, without blaming the document', async () => {
    const closing = new ExtractionPool({ threads: 1, timeoutMs: 1_000, memoryMb: 32 });
    await closing.close();
    await assert.rejects(closing.run(task('ok')), (error: unknown) => {
      assert.ok(!(error instanceof ExtractionAbortedError));
      return true;
    });
  });
});
