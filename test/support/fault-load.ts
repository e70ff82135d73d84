import { Agent, request } from 'undici';

/** What one request got: its status (0 when the connection failed), timing and the headers that matter. */
export interface Outcome {
  kind: string;
  status: number;
  ms: number;
  retryAfter: string | undefined;
  cache: string | undefined;
  body: unknown;
  /** The network error, when there was no answer. */
  error: string | undefined;
  at: number;
}

/**
 * The client side of a fault test: real HTTP over keep-alive connections (undici), every outcome
 * recorded with its status, time and Retry-After, so the test asserts and prints what happened.
 */
export class LoadClient {
  readonly outcomes: Outcome[] = [];
  private readonly agent: Agent;

  constructor(
    private readonly baseUrl: () => string,
    private readonly token: string,
    connections = 64,
  ) {
    this.agent = new Agent({ connections, headersTimeout: 120_000, bodyTimeout: 120_000 });
  }

  /** POST /documents with JSON content; the title makes the upload findable in Postgres. */
  upload(title: string, content: string): Promise<Outcome> {
    return this.send('upload', 'POST', '/documents', { title, content });
  }

  query(kind: string, query: string): Promise<Outcome> {
    return this.send(kind, 'POST', '/query', { query, top_k: 3 });
  }

  delete(id: string): Promise<Outcome> {
    return this.send('delete', 'DELETE', `/documents/${id}`);
  }

  async send(
    kind: string,
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    json?: unknown,
  ): Promise<Outcome> {
    const startedAt = performance.now();
    const at = Date.now();
    try {
      const response = await request(`${this.baseUrl()}${path}`, {
        method,
        dispatcher: this.agent,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(json === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: json === undefined ? undefined : JSON.stringify(json),
      });
      const text = await response.body.text();
      const header = (name: string) => {
        const value = response.headers[name];
        return Array.isArray(value) ? value[0] : value;
      };
      return this.record({
        kind,
        status: response.statusCode,
        ms: performance.now() - startedAt,
        retryAfter: header('retry-after'),
        cache: header('x-cache'),
        body: text === '' ? undefined : (JSON.parse(text) as unknown),
        error: undefined,
        at,
      });
    } catch (error) {
      const { code, message } = error as { code?: string; message: string };
      return this.record({
        kind,
        status: 0,
        ms: performance.now() - startedAt,
        retryAfter: undefined,
        cache: undefined,
        body: undefined,
        error: code === undefined ? message : `${code} (${message})`,
        at,
      });
    }
  }

  /** Counts per "kind status" (and network error), for the test's diagnostics. */
  counts(filter: (outcome: Outcome) => boolean = () => true): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const outcome of this.outcomes.filter(filter)) {
      const key = `${outcome.kind} ${outcome.status === 0 ? `error ${outcome.error}` : outcome.status}`;
      counts[key] = (counts[key] ?? 0) + 1;
    }
    return Object.fromEntries(Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)));
  }

  close(): Promise<void> {
    return this.agent.close();
  }

  private record(outcome: Outcome): Outcome {
    this.outcomes.push(outcome);
    return outcome;
  }
}

/** Runs `task` in `concurrency` loops until `stop()` says so, pausing `pauseMs` between a loop's calls. */
export async function loop(
  concurrency: number,
  stop: () => boolean,
  task: (iteration: number) => Promise<unknown>,
  pauseMs = 0,
): Promise<void> {
  let iteration = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (!stop()) {
        await task(iteration++);
        if (pauseMs > 0) await sleep(pauseMs);
      }
    }),
  );
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
