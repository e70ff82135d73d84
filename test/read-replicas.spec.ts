import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { INestApplicationContext } from '@nestjs/common';
import pg from 'pg';
import { DEFAULT_TENANT, RedisKey } from '#libs/contracts';
import { ReadReplica } from '#libs/database';
import { RedisClient } from '#libs/redis';
import { AnswerService, DEFAULT_BM25, Retriever, type RetrievalRequest } from '#libs/retrieval';
import { ReadRouting } from '../apps/query-worker/src/query/read-routing.js';
import { createQueryWorkerApp } from '../apps/query-worker/src/query-worker.app.js';
import { IngestHarness } from './support/ingest-harness.js';
import { StreamingReplicaPair } from './support/streaming-replica.js';
import { createTestEnvironment, waitFor, type TestEnvironment } from './support/test-environment.js';

const DATABASE = 'rag';
const MAX_WAIT_MS = 300;

describe('query workers read from a streaming replica (DATABASE_REPLICA_URLS)', () => {
  let pair: StreamingReplicaPair;
  let env: TestEnvironment;
  let ingest: IngestHarness;
  let worker: INestApplicationContext;
  let routing: ReadRouting;
  let primarySql: pg.Client;
  let replicaSql: pg.Client | undefined;

  const lsnOf = async (client: pg.Client, sql: string): Promise<number> =>
    Number(
      (await client.query<{ lsn: string }>(`SELECT (${sql} - '0/0'::pg_lsn)::int8::text AS lsn`)).rows[0].lsn,
    );
  /** One superuser session on the replica, opened again after the replica restarts. */
  const replicaSession = async (): Promise<pg.Client> => {
    if (replicaSql === undefined) {
      const client = new pg.Client({ connectionString: pair.replica.url(DATABASE) });
      client.on('error', () => undefined);
      await client.connect();
      replicaSql = client;
    }
    return replicaSql;
  };
  const redis = (): RedisClient => worker.get(RedisClient, { strict: false });
  const version = async (): Promise<number> =>
    Number(await redis().hget(RedisKey.CorpusVersions, DEFAULT_TENANT));
  const recordedLsn = async (): Promise<number> => Number(await redis().get(RedisKey.CorpusWalLsn));
  const question = (query: string, corpusVersion: number): RetrievalRequest => ({
    tenant: DEFAULT_TENANT,
    query,
    topK: 5,
    collection: null,
    corpusVersion,
  });

  /** Uploads through the real ingest worker, which indexes, records the WAL position and bumps the version. */
  async function index(text: string): Promise<{ id: string; version: number }> {
    const before = await version();
    const id = await ingest.upload(text, 'text/plain');
    await ingest.waitForStatus(id, 'indexed', 60_000);
    // The version moves just after the status: wait for the bump that publishes this document.
    const published = await waitFor(
      async () => {
        const current = await version();
        return current > before ? current : undefined;
      },
      { timeoutMs: 60_000, what: `a corpus version after ${before}` },
    );
    return { id, version: published };
  }

  async function waitUntilReplayed(lsn: number): Promise<void> {
    const sql = await replicaSession();
    await waitFor(async () => ((await lsnOf(sql, 'pg_last_wal_replay_lsn()')) >= lsn ? true : undefined), {
      timeoutMs: 60_000,
      what: `the replica to replay WAL ${lsn}`,
    });
  }

  async function pauseReplay(): Promise<void> {
    const sql = await replicaSession();
    await sql.query('SELECT pg_wal_replay_pause()');
    await waitFor(
      async () =>
        (await sql.query<{ state: string }>('SELECT pg_get_wal_replay_pause_state() AS state')).rows[0]
          .state === 'paused'
          ? true
          : undefined,
      { timeoutMs: 60_000, what: 'replay to pause' },
    );
  }

  before(async () => {
    pair = await StreamingReplicaPair.start();
    env = await createTestEnvironment({
      DATABASE_URL: pair.primary.url(DATABASE),
      DATABASE_REPLICA_URLS: pair.replica.url(DATABASE),
      DATABASE_REPLICA_MAX_WAIT_MS: `${MAX_WAIT_MS}`,
    });
    primarySql = new pg.Client({ connectionString: env.config.DATABASE_URL });
    await primarySql.connect();
    // The migrated database reaches the replica through the WAL like everything else.
    const migrated = await lsnOf(primarySql, 'pg_current_wal_insert_lsn()');
    await waitFor(
      async () => {
        try {
          await waitUntilReplayed(migrated);
          return true;
        } catch {
          await replicaSql?.end().catch(() => undefined);
          replicaSql = undefined;
          return undefined;
        }
      },
      { timeoutMs: 60_000, what: 'the replica to have the migrated database' },
    );
    ingest = await IngestHarness.start(env.config);
    worker = await createQueryWorkerApp(env.config);
    routing = worker.get(ReadRouting);
  });

  after(async () => {
    await replicaSql?.end().catch(() => undefined);
    await primarySql?.end();
    await worker?.close();
    await ingest?.close();
    await env?.cleanup();
    await pair?.stop();
  });

  it('records the primary WAL position, after the commit, with each new corpus version', async () => {
    const before = await lsnOf(primarySql, 'pg_current_wal_insert_lsn()');
    await index('Glaciers carve fjords over many thousands of years.');
    const recorded = await recordedLsn();
    assert.ok(recorded > before, `recorded ${recorded} should be past ${before}`);
    assert.ok(recorded <= (await lsnOf(primarySql, 'pg_current_wal_insert_lsn()')));
  });

  it('searches on the replica once it has replayed the version, and the primary while it lags behind', async () => {
    const aurora = await index('The aurora borealis glows green over the northern sky in winter.');
    await waitUntilReplayed(await recordedLsn());
    const onReplica = await routing.answer(question('aurora borealis', aurora.version));
    assert.equal(onReplica.readFrom, `127.0.0.1:${pair.replica.port}/${DATABASE}`);
    assert.equal(onReplica.sources[0]?.document_id, aurora.id);

    // The replica stops replaying. A change on the primary that publishes no version (so needs no
    // replay) shows where the search ran: the replica still holds the old text.
    await pauseReplay();
    await primarySql.query(
      `UPDATE chunks SET content = replace(content, 'green', 'crimson') WHERE document_id = $1`,
      [aurora.id],
    );
    const stillReplica = await routing.answer(question('aurora borealis', aurora.version));
    assert.equal(stillReplica.readFrom, onReplica.readFrom);
    assert.match(stillReplica.answer, /green/u);

    // A new version the replica has not replayed is answered by the primary, new document included.
    const comet = await index('A comet sheds a tail of dust when it passes close to the sun.');
    const newer = await routing.answer(question('comet dust tail', comet.version));
    assert.equal(newer.readFrom, 'primary');
    assert.equal(newer.sources[0]?.document_id, comet.id);
    await (await replicaSession()).query('SELECT pg_wal_replay_resume()');
  });

  it('waits for a lagging replica up to DATABASE_REPLICA_MAX_WAIT_MS and reads it once it catches up', async () => {
    // A routing of its own with a wait no busy machine can exceed, so only the replica's catching up ends it.
    const replica = new ReadReplica(pair.replica.url(DATABASE), {
      poolSize: 2,
      applicationName: 'read-replicas-spec',
      onIdleError: () => undefined,
    });
    const patient = new ReadRouting(
      worker.get(AnswerService, { strict: false }),
      [{ replica, answers: new AnswerService(new Retriever(replica.search, DEFAULT_BM25), replica.search) }],
      { maxWaitMs: 120_000, recordedWalLsn: recordedLsn },
    );
    try {
      await pauseReplay();
      const nebula = await index('A nebula is a cloud of gas where new stars are born.');
      const pending = patient.answer(question('nebula stars', nebula.version));
      await (await replicaSession()).query('SELECT pg_wal_replay_resume()');
      const answer = await pending;
      assert.equal(answer.readFrom, replica.name);
      assert.equal(answer.sources[0]?.document_id, nebula.id);
    } finally {
      await patient.onApplicationShutdown();
    }
  });

  it('skips a replica that went down, answering from the primary, and reads it again once it is back', async () => {
    const tide = await index('Tides rise and fall twice a day, pulled by the moon.');
    await waitUntilReplayed(await recordedLsn());
    assert.notEqual((await routing.answer(question('tides moon', tide.version))).readFrom, 'primary');

    await replicaSql?.end().catch(() => undefined);
    replicaSql = undefined;
    await pair.replica.stop();
    // The replica had replayed this version, so the search starts there, fails, and moves to the primary.
    const whileDown = await routing.answer(question('tides moon', tide.version));
    assert.equal(whileDown.readFrom, 'primary');
    assert.equal(whileDown.sources[0]?.document_id, tide.id);
    const volcano = await index('A volcano erupts when magma reaches the surface.');
    const newWhileDown = await routing.answer(question('volcano magma', volcano.version));
    assert.equal(newWhileDown.readFrom, 'primary');
    assert.equal(newWhileDown.sources[0]?.document_id, volcano.id);

    await pair.replica.start();
    const back = await waitFor(
      async () => {
        const answer = await routing.answer(question('volcano magma', volcano.version));
        return answer.readFrom === 'primary' ? undefined : answer;
      },
      { timeoutMs: 60_000, intervalMs: 200, what: 'the replica to be read again' },
    );
    assert.equal(back.sources[0]?.document_id, volcano.id);
  });
});
