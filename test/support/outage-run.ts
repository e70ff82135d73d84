import assert from 'node:assert/strict';
import { createApiKey } from './api-keys.js';
import type { AppProcess } from './app-process.js';
import { faultDocument, waitUntilSettled } from './fault-documents.js';
import { LoadClient, loop, sleep, type Outcome } from './fault-load.js';
import { FaultStack } from './fault-stack.js';

export interface OutageStack {
  stack: FaultStack;
  /** Asks the questions, as tenant `default`. */
  client: LoadClient;
  /**
   * Uploads as another tenant: indexing bumps only that tenant's corpus version, so the questions'
   * cached answers stay current while uploads run, and the outage is what the cache is tested on.
   */
  uploader: LoadClient;
  close(): Promise<void>;
}

/** A fault stack with the gateway, an ingest and a query worker as processes, and three documents indexed. */
export async function startOutageStack(settings: Record<string, string>): Promise<OutageStack> {
  const stack = await FaultStack.start(settings);
  await Promise.all([
    stack.startApp('gateway'),
    stack.startApp('ingest-worker'),
    stack.startApp('query-worker'),
  ]);
  const gatewayUrl = () => stack.app('gateway').baseUrl;
  const client = new LoadClient(gatewayUrl, stack.token);
  const uploader = new LoadClient(
    gatewayUrl,
    await createApiKey(stack.config, { name: 'uploader', tenant: 'uploads' }),
  );
  const seed = ['seed-a', 'seed-b', 'seed-c'].map(faultDocument);
  for (const document of seed) {
    assert.equal((await client.upload(document.title, document.content)).status, 202);
  }
  await waitUntilSettled(
    stack.config.DATABASE_URL,
    seed.map((document) => document.title),
  );
  return {
    stack,
    client,
    uploader,
    close: async () => {
      await client.close();
      await uploader.close();
      await stack.destroy();
    },
  };
}

export type Phase = 'before' | 'outage' | 'after';

export interface OutageRunOptions {
  gateway: AppProcess;
  /** Asks the questions. */
  client: LoadClient;
  /** Uploads, as another tenant, so that indexing does not retire the questions' cached answers. */
  uploader: LoadClient;
  /** Questions already answered once: their answers sit in the gateway's caches. */
  cachedQuestions: readonly string[];
  outageMs: number;
  /** Runs just before the dependency is stopped (after 2 s of load). */
  beforeOutage?(): Promise<void>;
  stopDependency(): Promise<void>;
  startDependency(): Promise<void>;
}

export interface OutageRun {
  /** Every request of the run with the phase it was sent in. */
  outcomes: Map<Outcome, Phase>;
  /** Each upload by its title. */
  uploads: Map<string, Outcome>;
  health: { phase: Phase; status: number; checks: Record<string, { ok: boolean }> | undefined }[];
  liveFailures: number;
  outageMs: number;
  /** From the dependency's return to /health healthy and a new question answered; undefined: never. */
  recoveryMs: number | undefined;
}

/**
 * Load through one gateway while a dependency goes away and comes back: 3 upload loops, 4 loops
 * asking cached questions, 2 asking new ones, one listing documents, and /health and /health/live
 * polled every 250 ms.
 * 2 s of load, the outage, then load until the system has recovered plus 2 s.
 */
export async function runOutage(options: OutageRunOptions): Promise<OutageRun> {
  const { gateway, client, uploader, cachedQuestions } = options;
  let phase: Phase = 'before';
  const outcomes = new Map<Outcome, Phase>();
  const uploads = new Map<string, Outcome>();
  const health: OutageRun['health'] = [];
  let liveFailures = 0;
  let stop = false;
  let uploadCount = 0;
  let missCount = 0;
  const tagged = (outcome: Outcome) => {
    outcomes.set(outcome, phase);
    return outcome;
  };

  const load = Promise.all([
    loop(
      3,
      () => stop,
      async () => {
        const document = faultDocument(`upload-${uploadCount++}`);
        uploads.set(document.title, tagged(await uploader.upload(document.title, document.content)));
      },
      200,
    ),
    loop(
      4,
      () => stop,
      async (i) => tagged(await client.query('cached', cachedQuestions[i % cachedQuestions.length])),
      20,
    ),
    loop(
      2,
      () => stop,
      async () => tagged(await client.query('miss', `unseen question ${missCount++}`)),
      200,
    ),
    loop(
      1,
      () => stop,
      async () => tagged(await client.send('list', 'GET', '/documents')),
      250,
    ),
    loop(
      1,
      () => stop,
      async () => {
        const report = await gateway.health().catch(() => undefined);
        health.push({ phase, status: report?.status ?? 0, checks: report?.body.checks });
        if (!(await gateway.live())) liveFailures++;
      },
      250,
    ),
  ]);

  await sleep(2_000);
  await options.beforeOutage?.();
  phase = 'outage';
  const outageStartedAt = Date.now();
  await options.stopDependency();
  await sleep(options.outageMs);
  await options.startDependency();
  phase = 'after';
  const backAt = Date.now();

  let recoveredAt: number | undefined;
  for (let i = 0; recoveredAt === undefined && Date.now() - backAt < 60_000; i++) {
    const fresh = await client.query('recovery probe', `recovery question ${i}`);
    const report = await gateway.health().catch(() => undefined);
    if (fresh.status === 200 && report?.status === 200) recoveredAt = Date.now();
    else await sleep(250);
  }
  await sleep(2_000);
  stop = true;
  await load;
  return {
    outcomes,
    uploads,
    health,
    liveFailures,
    outageMs: backAt - outageStartedAt,
    recoveryMs: recoveredAt === undefined ? undefined : recoveredAt - backAt,
  };
}

/** Counts per "kind status" of the outcomes that pass `filter`. */
export function countOutcomes(run: OutageRun, filter: (phase: Phase) => boolean = () => true): string {
  const counts: Record<string, number> = {};
  for (const [outcome, phase] of run.outcomes) {
    if (!filter(phase)) continue;
    const key = `${outcome.kind} ${outcome.status === 0 ? `error ${outcome.error}` : outcome.status}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return JSON.stringify(Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b))));
}

/**
 * Asks each question until a whole round is answered from the cache: the gateway may hear the
 * last set-up document's corpus version move only after the test saw it indexed, and an answer
 * cached before that would be retired by it, so the first cached questions of the run would miss.
 */
export async function warmCache(client: LoadClient, questions: readonly string[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const answers = await Promise.all(questions.map((question) => client.query('warm', question)));
    if (answers.every((answer) => answer.status === 200 && answer.cache === 'HIT')) return;
    if (Date.now() > deadline) throw new Error(`the cache did not warm: ${JSON.stringify(answers)}`);
    await sleep(200);
  }
}
