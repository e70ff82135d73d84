import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Queue } from 'bullmq';
import pg from 'pg';
import { QueueName, type QuerySource } from '#libs/contracts';
import { bullPrefix } from '#libs/queues';
import { taggedDocument } from './support/fault-documents.js';
import { LoadClient, sleep, type Outcome } from './support/fault-load.js';
import { FaultStack } from './support/fault-stack.js';
import { waitFor } from './support/test-environment.js';

const DOCUMENTS = Number(process.env.FAULT_DELETES ?? 12);

/**
 * Delete during indexing (issue 6, suite 5): documents are deleted through the gateway while
 * their ingest job runs (or just after it finished, with answers citing them in the cache). None
 * may leave a chunk or a posting behind, and no answer given after the 204 may cite it.
 */
describe('faults: a document deleted while it is indexed', () => {
  let stack: FaultStack;
  let client: LoadClient;
  let sql: pg.Client;
  let queue: Queue;

  before(async () => {
    stack = await FaultStack.start({
      // Many chunks per document, so that a job runs long enough to be caught in the middle.
      CHUNK_SIZE: '200',
      CHUNK_OVERLAP: '20',
      INGEST_CONCURRENCY: '1',
    });
    await Promise.all([
      stack.startApp('gateway'),
      stack.startApp('ingest-worker'),
      stack.startApp('query-worker'),
    ]);
    client = new LoadClient(() => stack.app('gateway').baseUrl, stack.token, 8);
    sql = new pg.Client({ connectionString: stack.config.DATABASE_URL });
    await sql.connect();
    queue = new Queue(QueueName.Ingest, {
      connection: { host: '127.0.0.1', port: stack.redis.port },
      prefix: bullPrefix(stack.config),
    });
    queue.on('error', () => undefined);
  });
  after(async () => {
    await queue?.close();
    await sql?.end();
    await client?.close();
    await stack?.destroy();
  });

  const statusOf = async (id: string) =>
    (await sql.query<{ status: string }>('SELECT status FROM documents WHERE id = $1', [id])).rows[0]?.status;
  const cites = (outcome: Outcome, id: string) =>
    ((outcome.body as { sources?: QuerySource[] } | undefined)?.sources ?? []).some(
      (source) => source.document_id === id,
    );

  it('leaves no chunks behind and no answer citing the document', async (t) => {
    const moments: Record<string, number> = {};
    const problems: string[] = [];
    let cachedCitations = 0;
    let answersAfterDelete = 0;
    for (let i = 0; i < DOCUMENTS; i++) {
      const tag = `quokka${i}`;
      const document = taggedDocument(tag, 80);
      const uploaded = await client.upload(document.title, document.content);
      assert.equal(uploaded.status, 202, JSON.stringify(uploaded.body));
      const id = (uploaded.body as { id: string }).id;

      let moment: string;
      if (i % 3 === 2) {
        // After indexing, with answers citing it in the gateway's cache.
        await waitFor(async () => ((await statusOf(id)) === 'indexed' ? true : undefined), {
          what: `${tag} to be indexed`,
        });
        for (let ask = 0; ask < 2; ask++) {
          const answer = await client.query('before delete', tag);
          if (answer.status === 200 && cites(answer, id) && answer.cache === 'HIT') cachedCitations++;
        }
        moment = 'after indexing, cached answers citing it';
      } else {
        // While the job runs: at once, or a little into it.
        await waitFor(async () => ((await statusOf(id)) !== 'queued' ? true : undefined), {
          intervalMs: 5,
          what: `${tag} to start`,
        });
        if (i % 3 === 1) await sleep(20 * i);
        void client.query('during indexing', tag);
        moment = 'while its job ran';
      }
      const stateAtDelete = await queue.getJobState(id);
      const deleted = await client.delete(id);
      assert.equal(deleted.status, 204, JSON.stringify(deleted.body));
      const key = `${moment} (job ${stateAtDelete})`;
      moments[key] = (moments[key] ?? 0) + 1;

      // Straight after the 204, and again once the job has ended.
      const right = await client.query('after delete', tag);
      answersAfterDelete++;
      if (right.status !== 200 || cites(right, id))
        problems.push(`${tag}: answered ${right.status} citing it right after the delete`);
      await waitFor(
        async () =>
          ['completed', 'failed', 'unknown'].includes(await queue.getJobState(id)) ? true : undefined,
        { what: `${tag}'s job to end` },
      );
      const later = await client.query('after delete', tag);
      answersAfterDelete++;
      if (later.status !== 200 || cites(later, id))
        problems.push(`${tag}: answered ${later.status} citing it after its job ended`);
      const left = await sql.query<{ rows: number; chunks: number; postings: number }>(
        `SELECT (SELECT count(*)::int FROM documents WHERE id = $1) AS rows,
                (SELECT count(*)::int FROM chunks WHERE document_id = $1) AS chunks,
                (SELECT count(*)::int FROM chunk_terms t WHERE NOT EXISTS (SELECT 1 FROM chunks c WHERE c.id = t.chunk_id)) AS postings`,
        [id],
      );
      const { rows, chunks, postings } = left.rows[0];
      if (rows + chunks + postings > 0)
        problems.push(`${tag}: ${rows} rows, ${chunks} chunks, ${postings} orphan postings left`);
      if ((await queue.getJobState(id)) === 'failed') {
        problems.push(`${tag}: its job failed: ${(await queue.getJob(id))?.failedReason}`);
      }
    }
    t.diagnostic(
      `${DOCUMENTS} documents uploaded and deleted: ${JSON.stringify(moments)}; ${cachedCitations} cached answers cited a ` +
        `document before its delete; ${answersAfterDelete} answers after the deletes, problems ${problems.length}`,
    );
    assert.deepEqual(problems, []);
  });
});
