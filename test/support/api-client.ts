import assert from 'node:assert/strict';

/** What a test reads of a `POST /query` answer: where it came from and which documents it cites. */
export interface AskedAnswer {
  cache: string | null;
  sources: string[];
}

/** The public API as one key's client sees it, for tests that upload and ask through a gateway. */
export class ApiClient {
  private readonly auth: { authorization: string };

  constructor(
    private readonly baseUrl: string,
    token: string,
  ) {
    this.auth = { authorization: `Bearer ${token}` };
  }

  /** Uploads a JSON document; returns its id (asserts 202). */
  async upload(title: string, content: string): Promise<string> {
    const response = await fetch(`${this.baseUrl}/documents`, {
      method: 'POST',
      headers: { ...this.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ title, content }),
    });
    assert.equal(response.status, 202);
    return ((await response.json()) as { id: string }).id;
  }

  async status(id: string): Promise<string> {
    const response = await fetch(`${this.baseUrl}/documents/${id}`, { headers: this.auth });
    return ((await response.json()) as { status: string }).status;
  }

  /** Asks a question (asserts 200). */
  async ask(query: string): Promise<AskedAnswer> {
    const response = await fetch(`${this.baseUrl}/query`, {
      method: 'POST',
      headers: { ...this.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ query }),
    });
    assert.equal(response.status, 200);
    const answer = (await response.json()) as { sources: { document_id: string }[] };
    return {
      cache: response.headers.get('x-cache'),
      sources: answer.sources.map((source) => source.document_id),
    };
  }
}
