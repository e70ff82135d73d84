import { setTimeout as sleep } from 'node:timers/promises';

/** HTTP calls a user makes against the deployed stack, through nginx. */

export interface HttpAnswer {
  status: number;
  headers: Headers;
  text: string;
}

export class StackClient {
  constructor(
    readonly baseUrl: string,
    private token = '',
  ) {}

  useToken(token: string): void {
    this.token = token;
  }

  async request(path: string, init: RequestInit & { auth?: string | null } = {}): Promise<HttpAnswer> {
    const headers = new Headers(init.headers);
    const auth = init.auth === undefined ? (this.token ? `Bearer ${this.token}` : null) : init.auth;
    if (auth !== null) headers.set('authorization', auth);
    const response = await fetch(`${this.baseUrl}${path}`, {
      ...init,
      headers,
      signal: AbortSignal.timeout(30_000),
    });
    return { status: response.status, headers: response.headers, text: await response.text() };
  }

  /** A JSON answer with the expected status, or an error that shows what came instead. */
  async json<T>(
    path: string,
    expected: number,
    init: RequestInit & { auth?: string | null } = {},
  ): Promise<T> {
    const answer = await this.request(path, init);
    if (answer.status !== expected) {
      throw new Error(
        `${init.method ?? 'GET'} ${path}: ${answer.status} (expected ${expected}): ${answer.text.slice(0, 500)}`,
      );
    }
    return JSON.parse(answer.text) as T;
  }

  uploadText(title: string, content: string, collection: string): Promise<{ id: string }> {
    return this.json('/documents', 202, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title, content, collection }),
    });
  }

  uploadFile(fileName: string, body: Buffer, mimeType: string, collection: string): Promise<{ id: string }> {
    const form = new FormData();
    form.set('collection', collection);
    form.set('file', new Blob([new Uint8Array(body)], { type: mimeType }), fileName);
    return this.json('/documents', 202, { method: 'POST', body: form });
  }

  query(query: string, collection?: string): Promise<QueryAnswer> {
    return this.json('/query', 200, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, top_k: 3, collection }),
    });
  }
}

export interface QueryAnswer {
  answer: string;
  sources: { document_id: string; title: string; score: number }[];
  cached: boolean;
}

export interface DocumentStatus {
  id: string;
  status: 'queued' | 'processing' | 'indexed' | 'failed';
  error: string | null;
}

/** Retries `attempt` until it returns a value (not undefined), or fails after `seconds`. */
export async function waitFor<T>(
  what: string,
  seconds: number,
  attempt: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  let lastError = '';
  for (;;) {
    try {
      const value = await attempt();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = (error as Error).message;
    }
    if (Date.now() > deadline)
      throw new Error(`${what}: not within ${seconds} s${lastError ? ` (last: ${lastError})` : ''}`);
    await sleep(1000);
  }
}
