/**
 * npm run test:deploy — the Docker deployment, run the way a user runs it (docs/deployment.md):
 * builds the image from docker/Dockerfile, brings docker/compose.yaml up, and talks to it only
 * through nginx, as a client would. It creates an API key with the CLI inside a container, uploads a
 * text and a PDF, queries them, reads /metrics and the queue dashboard, scales the workers and shows
 * that each replica took jobs, kills an ingest worker in the middle of a 100-document batch and
 * shows that every document still ends `indexed`, then removes the stack and its volumes.
 *
 * Needs a running Docker engine and docker-compose 1.29 or `docker compose` v2. Base images that are
 * missing are built as local stand-ins first (docker/stand-ins/build.sh; DEPLOY_TEST_STAND_INS=0
 * leaves them to compose, which pulls them). Env: DEPLOY_TEST_HTTP_PORT (28080),
 * DEPLOY_TEST_PROMETHEUS_PORT (28090), DEPLOY_TEST_PROJECT (ragdeploytest), DEPLOY_TEST_KEEP=1 keeps
 * the stack up afterwards.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { pdfWithText } from '../support/fixtures.js';
import { buildCli, ComposeProject, composeCli, containerLogs, jsonLines, run } from './docker-cli.js';
import { limitsOverride } from './host-limits.js';
import { StackClient, waitFor, type DocumentStatus } from './stack-client.js';

const root = path.resolve(import.meta.dirname, '../../..');
const imageTag = 'test-deploy';
/** The image docker/Dockerfile builds on (its first FROM). */
const dockerfileBase =
  /^FROM\s+(\S+)/m.exec(readFileSync(path.join(root, 'docker/Dockerfile'), 'utf8'))?.[1] ?? 'node';
const image = `rag-gateway:${imageTag}`;
const httpPort = Number(process.env.DEPLOY_TEST_HTTP_PORT ?? 28080);
const prometheusPort = Number(process.env.DEPLOY_TEST_PROMETHEUS_PORT ?? 28090);
const gatewayReplicas = 2;
const scaledIngestWorkers = 3;
const scaledQueryWorkers = 2;
const batchSize = 100;
const batchCollection = 'deploy-batch';
const secret = () => randomBytes(12).toString('hex');
const metricsToken = secret();
const admin = { user: 'operator', password: secret() };

const started = Date.now();
const summary: string[] = [];

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function record(line: string): void {
  summary.push(line);
  say(`    ${line}`);
}

async function step<T>(name: string, body: () => Promise<T>): Promise<T> {
  const stepStarted = Date.now();
  say(`=== ${name}`);
  const result = await body();
  say(`    (${((Date.now() - stepStarted) / 1000).toFixed(1)} s)`);
  return result;
}

const seconds = (since: number) => ((Date.now() - since) / 1000).toFixed(1);

/** BullMQ names each worker's blocking Redis connection `<prefix>:<base64 of the queue name>`. */
async function consumers(compose: ComposeProject, queue: string): Promise<number> {
  const { stdout } = await compose.run('exec', '-T', 'redis', 'redis-cli', 'CLIENT', 'LIST');
  const suffix = `:${Buffer.from(queue).toString('base64')}`;
  return stdout.split('\n').filter((line) => /\bname=\S+/.exec(line)?.[0].endsWith(suffix)).length;
}

/** The batch's documents a worker's log shows indexed, and those it started and did not finish. */
function batchJobs(
  records: Record<string, unknown>[],
  batch: Set<string>,
): { indexed: string[]; held: string[] } {
  const begun = new Set<string>();
  const indexed = new Set<string>();
  for (const r of records) {
    const id = String(r.documentId);
    if (!batch.has(id)) continue;
    if (r.msg === 'ingesting document') begun.add(id);
    // The job ends once the chunks are committed; publication follows apart from it (ADR 0030).
    else if (r.msg === 'chunks written; the document waits for publication') indexed.add(id);
  }
  return { indexed: [...indexed], held: [...begun].filter((id) => !indexed.has(id)) };
}

/** Varied text of about `words` words, so that indexing each document is real work. */
function batchText(index: number, words: number): string {
  const vocabulary = [
    'harbour',
    'ledger',
    'turbine',
    'glacier',
    'orchard',
    'lantern',
    'compass',
    'meadow',
    'quarry',
  ];
  const parts: string[] = [`Batch document ${index} for the deployment test.`];
  for (let i = 0; i < words; i++)
    parts.push(`${vocabulary[(index * 7 + i * 13) % vocabulary.length]}${i % 97}`);
  return parts.join(' ');
}

async function main(): Promise<void> {
  const composeFile = path.join(root, 'docker/compose.yaml');
  let overrideDir: string | undefined;
  const compose = new ComposeProject(
    await composeCli(),
    process.env.DEPLOY_TEST_PROJECT ?? 'ragdeploytest',
    composeFile,
    {
      // docker-compose 1.29 gives up on an engine call after 60 s; creating a container on vfs (a full
      // copy of its image) on a busy host can take longer.
      COMPOSE_HTTP_TIMEOUT: '600',
      RAG_GATEWAY_TAG: imageTag,
      HTTP_PORT: String(httpPort),
      PROMETHEUS_PORT: String(prometheusPort),
      POSTGRES_PASSWORD: secret(),
      METRICS_TOKEN: metricsToken,
      ADMIN_USER: admin.user,
      ADMIN_PASSWORD: admin.password,
      GATEWAY_REPLICAS: String(gatewayReplicas),
      GATEWAY_WORKERS: '1',
      INGEST_WORKER_REPLICAS: '1',
      QUERY_WORKER_REPLICAS: '1',
      // Two jobs at once per worker: eight questions in flight must then reach both query workers.
      QUERY_CONCURRENCY: '2',
      // The query workers log each answered job at debug: how this test sees which replica answered.
      LOG_LEVEL: 'debug',
    },
  );
  const client = new StackClient(`http://127.0.0.1:${httpPort}`);
  say(`deployment test: compose project ${compose.project} (${compose.description}), nginx on :${httpPort}`);

  try {
    // The image's base first (a stand-in where it is missing); then the image builds while the
    // other stand-ins do: on a cold machine that hides most of the image's build time.
    const standIns = path.join(root, 'docker/stand-ins/build.sh');
    const useStandIns = process.env.DEPLOY_TEST_STAND_INS !== '0';
    const indented = (text: string) => text.trimEnd().replace(/^/gm, '    ');
    await step(`base image of docker/Dockerfile (${dockerfileBase})`, async () => {
      if (!useStandIns) return say('    left to docker build (DEPLOY_TEST_STAND_INS=0)');
      say(indented((await run('bash', [standIns, dockerfileBase])).stdout));
    });

    await step(
      `build ${image} from docker/Dockerfile; the other base images and the engine's open-files limit alongside`,
      async () => {
        const cli = await buildCli();
        const buildStarted = Date.now();
        // The engine's open-files limit is read meanwhile, in a container of the base image.
        let buildSeconds = '';
        const [, others, limits] = await Promise.all([
          run(
            cli.command,
            ['build', '-f', path.join(root, 'docker/Dockerfile'), '-t', image, root],
            cli.env,
          ).then(() => (buildSeconds = seconds(buildStarted))),
          useStandIns
            ? run('bash', [standIns])
            : Promise.resolve({ stdout: 'left to compose (DEPLOY_TEST_STAND_INS=0)' }),
          limitsOverride(composeFile, dockerfileBase),
        ]);
        say(indented(others.stdout));
        const { stdout } = await run('docker', ['image', 'inspect', image, '--format', '{{.Size}}']);
        record(
          `image ${image}: ${(Number(stdout) / 1e6).toFixed(0)} MB, built in ${buildSeconds} s with ${cli.description}`,
        );
        // The open-files limit: where the engine grants less than compose asks for, an override
        // file of the test lowers it (host-limits.ts); compose.yaml itself is never changed.
        if (limits.file === undefined) {
          record(`open files: the engine grants ${limits.engineHard}, enough for docker/compose.yaml as is`);
        } else {
          overrideDir = path.dirname(limits.file);
          compose.addOverride(limits.file);
          const asked = limits.lowered.map(({ service, asked }) => `${service} ${asked.hard}`).join(', ');
          record(
            `open files: this engine grants at most ${limits.engineHard} (compose asks ${asked}); ` +
              `lowered to ${limits.engineHard} by an override file of the test, compose.yaml unchanged`,
          );
          say(`    ${limits.file}:\n${readFileSync(limits.file, 'utf8').trimEnd().replace(/^/gm, '      ')}`);
        }
      },
    );

    await step('compose up (leftovers of an earlier run removed first)', async () => {
      await compose.run('down', '-v', '--remove-orphans').catch(() => undefined);
      const upStarted = Date.now();
      await compose.run('up', '-d');
      const health = await waitFor('GET /health through nginx answers healthy', 300, async () => {
        const answer = await client.request('/health', { auth: null });
        return answer.status === 200 ? answer.text : undefined;
      });
      const services = [
        'postgres',
        'redis',
        'gateway',
        'nginx',
        'ingest-worker',
        'query-worker',
        'prometheus',
      ];
      const counts = await Promise.all(
        services.map(async (s) => `${s} ${(await compose.containers(s)).length}`),
      );
      record(`stack up and healthy through nginx in ${seconds(upStarted)} s: ${counts.join(', ')}`);
      say(`    /health: ${health}`);
    });

    await step('API key from the CLI inside a gateway container', async () => {
      const { stdout } = await compose.run(
        'exec',
        '-T',
        'gateway',
        'node',
        'dist/apps/cli/src/apikey.js',
        'create',
        '--name',
        'deploy-test',
      );
      const token = stdout.trim().split('\n').at(-1)?.trim() ?? '';
      if (token.length < 20) throw new Error(`no token in the CLI's output: ${stdout}`);
      client.useToken(token);
      const unauthorized = await client.request('/documents', { auth: 'Bearer not-a-key' });
      if (unauthorized.status !== 401) throw new Error(`an unknown key got ${unauthorized.status}, not 401`);
      record('API key created by `apikey.js create` in a container; an unknown key gets 401');
    });

    await step('upload a text and a PDF, query both', async () => {
      const text = await client.uploadText(
        'Lighthouse log',
        'The lighthouse keeper records the tide tables every morning at the northern harbour.',
        'deploy-smoke',
      );
      const pdf = await client.uploadFile(
        'finance.pdf',
        await pdfWithText(
          'Quarterly invoices are archived in the finance vault once the treasurer approves them.',
        ),
        'application/pdf',
        'deploy-smoke',
      );
      for (const { id } of [text, pdf]) {
        await waitFor(`document ${id} indexed`, 120, async () => {
          const document = await client.json<DocumentStatus>(`/documents/${id}`, 200);
          if (document.status === 'failed') throw new Error(`document ${id} failed: ${document.error}`);
          return document.status === 'indexed' ? document : undefined;
        });
      }
      const asks: [string, string][] = [
        ['who records the tide tables at the harbour?', text.id],
        ['where are quarterly invoices archived?', pdf.id],
      ];
      for (const [question, expected] of asks) {
        const answer = await client.query(question, 'deploy-smoke');
        if (answer.sources[0]?.document_id !== expected) {
          throw new Error(
            `"${question}" was answered from ${JSON.stringify(answer.sources)}, expected ${expected}`,
          );
        }
      }
      record('text and PDF uploads indexed; each question answered from its own document first');
    });

    await step('/metrics and /admin/queues through nginx', async () => {
      const anonymous = await client.request('/metrics', { auth: null });
      if (anonymous.status !== 401)
        throw new Error(`/metrics without the token answered ${anonymous.status}, not 401`);
      const metrics = await client.request('/metrics', { auth: `Bearer ${metricsToken}` });
      if (metrics.status !== 200) throw new Error(`/metrics with the token answered ${metrics.status}`);
      const series = metrics.text.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
      // queue_jobs is not required here: one process of the deployment exports it, whichever holds
      // the queue-depth lease (ADR 0021), and that may be a worker; the Prometheus step finds it.
      for (const name of [
        'http_requests_total{',
        'http_request_duration_seconds_bucket{',
        'queue_depth_exporter ',
      ]) {
        if (!series.some((line) => line.startsWith(name)))
          throw new Error(`/metrics has no ${name}...} series`);
      }
      const uploads = series
        .filter((line) => line.startsWith('http_requests_total{') && line.includes('route="/documents"'))
        .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
      record(
        `/metrics: 401 without the token; ${series.length} samples with it, ${uploads} requests on route /documents`,
      );

      const board = await client.request('/admin/queues', { auth: null });
      if (board.status !== 401)
        throw new Error(`/admin/queues without credentials answered ${board.status}, not 401`);
      const basic = `Basic ${Buffer.from(`${admin.user}:${admin.password}`).toString('base64')}`;
      const page = await client.request('/admin/queues', { auth: basic });
      const queues = await client.request('/admin/queues/api/queues', { auth: basic });
      if (page.status !== 200 || queues.status !== 200) {
        throw new Error(`/admin/queues with credentials: page ${page.status}, API ${queues.status}`);
      }
      const names = ['ingest', 'query'].filter((queue) => queues.text.includes(`"${queue}"`));
      record(
        `/admin/queues: 401 without credentials; page and API 200 with them, queues shown: ${names.join(', ')}`,
      );
    });

    await step('Prometheus scrapes every replica; one of them exports queue_jobs', async () => {
      const prometheus = `http://127.0.0.1:${prometheusPort}/api/v1`;
      const expected: Record<string, number> = {
        gateway: gatewayReplicas,
        'ingest-worker': 1,
        'query-worker': 1,
      };
      const up = await waitFor('Prometheus targets up', 120, async () => {
        const response = await fetch(`${prometheus}/targets`);
        const body = (await response.json()) as {
          data: { activeTargets: { labels: { job: string }; health: string }[] };
        };
        const counts = Object.keys(expected).map(
          (job) =>
            [
              job,
              body.data.activeTargets.filter((t) => t.labels.job === job && t.health === 'up').length,
            ] as const,
        );
        return counts.every(([job, n]) => n === expected[job]) ? counts : undefined;
      });
      record(`Prometheus targets up: ${up.map(([job, n]) => `${job} ${n}`).join(', ')}`);
      const exporters = await waitFor('queue_jobs in Prometheus', 60, async () => {
        const response = await fetch(
          `${prometheus}/query?query=${encodeURIComponent('count by (job, instance) (queue_jobs)')}`,
        );
        const body = (await response.json()) as {
          data: { result: { metric: { job: string; instance: string } }[] };
        };
        return body.data.result.length > 0 ? body.data.result.map((r) => r.metric) : undefined;
      });
      if (exporters.length !== 1)
        throw new Error(
          `queue_jobs exported by ${exporters.length} targets, not one: ${JSON.stringify(exporters)}`,
        );
      record(
        `queue_jobs exported by exactly one target, the lease holder: ${exporters[0].job} ${exporters[0].instance}`,
      );
    });

    await step(
      `scale ingest-worker to ${scaledIngestWorkers} and query-worker to ${scaledQueryWorkers}`,
      async () => {
        await compose.run(
          'up',
          '-d',
          '--no-recreate',
          '--scale',
          `gateway=${gatewayReplicas}`,
          '--scale',
          `ingest-worker=${scaledIngestWorkers}`,
          '--scale',
          `query-worker=${scaledQueryWorkers}`,
        );
        await waitFor('every worker replica consuming', 240, async () => {
          const [ingest, query] = await Promise.all([
            consumers(compose, 'ingest'),
            consumers(compose, 'query'),
          ]);
          return ingest >= scaledIngestWorkers && query >= scaledQueryWorkers ? true : undefined;
        });
        record(
          `scaled: ${scaledIngestWorkers} ingest and ${scaledQueryWorkers} query workers consuming (Redis CLIENT LIST)`,
        );
      },
    );

    const ingestWorkers = await compose.containers('ingest-worker');
    const batch = await step(
      `${batchSize}-document batch, one ingest worker killed in the middle`,
      async () => {
        const batchStarted = Date.now();
        const ids: string[] = [];
        for (let first = 0; first < batchSize; first += 10) {
          const uploads = await Promise.all(
            Array.from({ length: Math.min(10, batchSize - first) }, (_, i) =>
              client.uploadText(`Batch ${first + i}`, batchText(first + i, 6000), batchCollection),
            ),
          );
          ids.push(...uploads.map((upload) => upload.id));
        }
        const inBatch = new Set(ids);
        say(`    ${ids.length} uploads answered 202 in ${seconds(batchStarted)} s`);

        // Kill a worker that has already indexed some of the batch (so it counts as having taken
        // work) while it holds a job: one whose start is logged and whose end is not. What it held
        // is read from its log after the kill, when the log is complete: a job that finished just
        // before the kill landed does not count as cut off. If every held job finished in that
        // moment, the next worker is killed the same way (at most two of the three).
        const killed: string[] = [];
        let cutOff: string[] = [];
        for (const victim of ingestWorkers.slice(0, 2)) {
          await waitFor(`${victim} holding a job after indexing one`, 120, async () => {
            const jobs = batchJobs(jsonLines(await containerLogs(victim)), inBatch);
            return jobs.indexed.length > 0 && jobs.held.length > 0 ? true : undefined;
          });
          await run('docker', ['kill', victim]);
          killed.push(victim);
          cutOff = batchJobs(jsonLines(await containerLogs(victim)), inBatch).held;
          say(`    docker kill ${victim}: it was holding ${cutOff.length} job(s) ${cutOff.join(', ')}`);
          if (cutOff.length > 0) break;
          say(`    (its jobs finished before the kill landed: killing the next worker)`);
        }
        if (cutOff.length === 0) throw new Error(`no job was cut off by killing ${killed.join(', ')}`);

        const statuses = await waitFor(`all ${batchSize} documents indexed`, 300, async () => {
          const { items } = await client.json<{ items: DocumentStatus[] }>(
            `/documents?collection=${batchCollection}&limit=100`,
            200,
          );
          const failed = items.filter((item) => item.status === 'failed');
          if (failed.length > 0)
            throw new Error(`failed: ${failed.map((f) => `${f.id} ${f.error}`).join('; ')}`);
          return items.length === batchSize && items.every((item) => item.status === 'indexed')
            ? items
            : undefined;
        });
        record(
          `all ${statuses.length}/${batchSize} batch documents indexed, ${seconds(batchStarted)} s after the first upload`,
        );
        return { ids: inBatch, killed, cutOff };
      },
    );

    await step('the work spread over the replicas', async () => {
      const indexedBy = new Map<string, string[]>();
      for (const container of ingestWorkers) {
        indexedBy.set(container, batchJobs(jsonLines(await containerLogs(container)), batch.ids).indexed);
      }
      const perWorker = [...indexedBy].map(([container, ids]) => `${container} ${ids.length}`);
      record(`ingest jobs per replica: ${perWorker.join(', ')}`);
      if ([...indexedBy.values()].some((ids) => ids.length === 0))
        throw new Error('an ingest replica processed no job');
      for (const id of batch.cutOff) {
        const by = [...indexedBy].filter(([, ids]) => ids.includes(id)).map(([container]) => container);
        record(`job cut off by the kill, ${id}: indexed by ${by.join(', ') || '(no log line)'}`);
        if (by.length === 0 || by.some((container) => batch.killed.includes(container)))
          throw new Error(`job ${id}, cut off by the kill, was not indexed by another replica`);
      }
      for (const victim of batch.killed) {
        const { stdout } = await run('docker', [
          'inspect',
          victim,
          '--format',
          '{{.State.Status}} {{.RestartCount}}',
        ]);
        record(`killed worker ${victim} now: ${stdout.trim().replace(' ', ', restarts ')}`);
      }

      const queryWorkers = await compose.containers('query-worker');
      const questions = Array.from(
        { length: 40 },
        (_, i) => `batch document ${i} ledger${i % 97} harbour${(i * 3) % 97}`,
      );
      for (let first = 0; first < questions.length; first += 8) {
        await Promise.all(questions.slice(first, first + 8).map((q) => client.query(q, batchCollection)));
      }
      const answered = await Promise.all(
        queryWorkers.map(async (container) => {
          const records = jsonLines(await containerLogs(container));
          return [container, records.filter((r) => String(r.msg).startsWith('answered job')).length] as const;
        }),
      );
      record(
        `query jobs per replica (${questions.length} distinct questions): ${answered.map(([c, n]) => `${c} ${n}`).join(', ')}`,
      );
      if (answered.some(([, n]) => n === 0)) throw new Error('a query replica answered no job');
    });
  } catch (error) {
    say(`FAILED: ${(error as Error).message}`);
    await compose
      .run('ps')
      .then(({ stdout }) => say(stdout))
      .catch(() => undefined);
    await compose
      .run('logs', '--tail', '20')
      .then(({ stdout }) => say(stdout))
      .catch(() => undefined);
    process.exitCode = 1;
  } finally {
    if (process.env.DEPLOY_TEST_KEEP === '1') {
      say(`=== stack kept up (DEPLOY_TEST_KEEP=1); remove it with: ${compose.commandLine('down', '-v')}`);
    } else {
      await step('compose down -v', async () => {
        await compose.run('down', '-v', '--remove-orphans');
        if (overrideDir !== undefined) rmSync(overrideDir, { recursive: true, force: true });
      });
    }
  }

  say('=== summary');
  for (const line of summary) say(`    ${line}`);
  say(`deployment test ${process.exitCode ? 'FAILED' : 'passed'} in ${seconds(started)} s`);
}

await main();
