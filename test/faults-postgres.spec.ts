import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  documentsByTitle,
  faultDocument,
  settledReport,
  waitUntilSettled,
} from './support/fault-documents.js';
import type { LoadClient } from './support/fault-load.js';
import type { FaultStack } from './support/fault-stack.js';
import { assertUploadsKept } from './support/outage-assertions.js';
import {
  countOutcomes,
  runOutage,
  startOutageStack,
  warmCache,
  type OutageStack,
} from './support/outage-run.js';

const OUTAGE_MS = 10_000;
/** Uploads sent at once right before the outage. */
const BURST = 30;
/** Far above anything a healthy answer needs here, so "fast" has a generous margin below it. */
const QUERY_TIMEOUT_MS = 20_000;
/** "Fast" for a refusal: well under QUERY_TIMEOUT_MS, far above a healthy answer on a busy machine. */
const FAST_MS = QUERY_TIMEOUT_MS / 2;
const WARM_QUESTIONS = [
  'how do I reset my password',
  'when does the reset link expire',
  'who can force a password reset',
  'where is the security tab',
];

/**
 * Postgres fails under load (issue 6, suite 2): a private Postgres cluster is stopped (fast
 * shutdown: every connection dropped, new ones refused) for 10 s while uploads and questions run
 * against a gateway, an ingest worker and a query worker, each its own process.
 */
describe('faults: Postgres stops', () => {
  let outage: OutageStack;
  let stack: FaultStack;
  let client: LoadClient;
  let uploader: LoadClient;

  before(async () => {
    outage = await startOutageStack({ QUERY_TIMEOUT_MS: `${QUERY_TIMEOUT_MS}` });
    ({ stack, client, uploader } = outage);
  });
  after(() => outage?.close());

  it('keeps the gateway up: uploads 503 fast or accepted and indexed, cached answers served, recovery without restart', async (t) => {
    const gateway = stack.app('gateway');
    const pids = [...stack.apps.values()].map((app) => app.pid);
    await warmCache(client, WARM_QUESTIONS);
    // A burst of uploads right before the outage, so that jobs are queued and running when it starts.
    const burst = Array.from({ length: BURST }, (_, i) => faultDocument(`burst-${i}`));
    let pendingAtOutage = 0;
    const run = await runOutage({
      beforeOutage: async () => {
        for (const outcome of await Promise.all(
          burst.map((document) => uploader.upload(document.title, document.content)),
        )) {
          assert.equal(outcome.status, 202, JSON.stringify(outcome.body));
        }
        const rows = await documentsByTitle(stack.config.DATABASE_URL);
        pendingAtOutage = burst.filter((d) => rows.get(d.title)?.status !== 'indexed').length;
      },
      gateway,
      client,
      uploader,
      cachedQuestions: WARM_QUESTIONS,
      outageMs: OUTAGE_MS,
      stopDependency: () => stack.postgres.stop(),
      startDependency: () => stack.postgres.start(),
    });
    const all = [...run.outcomes.keys()];
    const during = (kind: string) => all.filter((o) => o.kind === kind && run.outcomes.get(o) === 'outage');
    const slowest = (kind: string, status: number) =>
      Math.round(
        Math.max(
          0,
          ...during(kind)
            .filter((o) => o.status === status)
            .map((o) => o.ms),
        ),
      );
    t.diagnostic(`outage: Postgres stopped (fast shutdown) for ${run.outageMs} ms, then started again`);
    t.diagnostic(`requests: ${all.length} sent; ${countOutcomes(run)}`);
    t.diagnostic(`during the outage: ${countOutcomes(run, (phase) => phase === 'outage')}`);
    t.diagnostic(
      `slowest 503 during the outage: upload ${slowest('upload', 503)} ms, miss ${slowest('miss', 503)} ms (QUERY_TIMEOUT_MS ${QUERY_TIMEOUT_MS})`,
    );
    t.diagnostic(
      `recovered (health 200 and a new question answered) ${run.recoveryMs === undefined ? 'never' : `${run.recoveryMs} ms`} after Postgres returned`,
    );

    // No process restarted, the gateway answered liveness throughout, /health followed Postgres.
    assert.deepEqual(
      [...stack.apps.values()].map((app) => app.pid),
      pids,
    );
    assert.ok(
      [...stack.apps.values()].every((app) => app.running),
      stack.tails(),
    );
    assert.equal(run.liveFailures, 0, `/health/live failed ${run.liveFailures} times`);
    const outageHealth = run.health.filter((h) => h.phase === 'outage');
    assert.ok(
      outageHealth.some((h) => h.status === 503 && h.checks?.database.ok === false),
      `/health never said unhealthy during the outage: ${JSON.stringify(outageHealth)}`,
    );
    assert.ok(
      run.recoveryMs !== undefined,
      `no recovery within 60 s of Postgres returning\n${stack.tails()}`,
    );

    // Cached questions kept their answers throughout.
    assert.deepEqual(
      all
        .filter((o) => o.kind === 'cached' && (o.status !== 200 || o.cache !== 'HIT'))
        .map((o) => `${o.status} ${o.cache} ${JSON.stringify(o.body)}`),
      [],
    );
    // Misses, listings and uploads: answered, or refused fast with 503 + Retry-After.
    for (const outcome of all.filter((o) => ['miss', 'list', 'upload'].includes(o.kind))) {
      if (outcome.status === 200 || outcome.status === 202) continue;
      assert.ok(
        outcome.status === 503 && outcome.retryAfter !== undefined,
        `${outcome.kind} answered ${outcome.status} (${outcome.error ?? JSON.stringify(outcome.body)}) in ${Math.round(outcome.ms)} ms`,
      );
      assert.ok(outcome.ms < FAST_MS, `a 503 to ${outcome.kind} took ${Math.round(outcome.ms)} ms`);
    }
    const report = await assertUploadsKept(stack, run);
    t.diagnostic(
      `uploads: ${run.uploads.size} sent, ${report.accepted} accepted (${during('upload').filter((o) => o.status === 202).length} during the outage), ` +
        `${report.refused} refused with 503; ${report.indexed} indexed, ${report.failed} failed, lost ${report.lost}`,
    );
    const burstRows = await waitUntilSettled(
      stack.config.DATABASE_URL,
      burst.map((document) => document.title),
    );
    const burstReport = settledReport(
      burst.map((document) => document.title),
      burstRows,
    );
    t.diagnostic(
      `burst before the outage: ${BURST} accepted, ${pendingAtOutage} not yet indexed when Postgres stopped; ` +
        `${burstReport.indexed} indexed, ${burstReport.failed} failed, lost ${burstReport.lost}; ` +
        `most attempts recorded ${Math.max(...burst.map((d) => burstRows.get(d.title)?.attempts ?? 0))}`,
    );
    assert.deepEqual(burstReport.problems, []);
    const otherServerErrors = all.filter((o) => o.status >= 500 && o.status !== 503);
    t.diagnostic(
      `5xx other than the promised 503s: ${otherServerErrors.length}; network errors: ${all.filter((o) => o.status === 0).length}`,
    );
    assert.equal(otherServerErrors.length, 0);
    assert.equal(all.filter((o) => o.status === 0).length, 0);
  });
});
