import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createApiKey } from './support/api-keys.js';
import { startTestGateway, type RunningGateway } from './support/gateway.js';
import { createTestEnvironment, type TestEnvironment } from './support/test-environment.js';

/** Past the request's buffer (64 KiB): what the server must read off the wire after refusing. */
const REST_BYTES = 1024 * 1024;
/**
 * A connection stuck behind an unread body answers its next request only when the stuck request
 * reaches REQUEST_TIMEOUT_MS (a 408), so the test fails on the status instead of waiting 2 minutes.
 */
const REQUEST_TIMEOUT_MS = 10_000;

interface RawResponse {
  status: number;
  body: string;
}

/** One keep-alive connection spoken to byte by byte, so a body can be sent in two pieces. */
class RawConnection {
  private readonly chunks: AsyncIterator<Buffer>;
  private buffered = Buffer.alloc(0);

  constructor(private readonly socket: Socket) {
    this.chunks = socket[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  }

  send(bytes: string | Buffer): void {
    this.socket.write(bytes);
  }

  /** The next response (every answer of the gateway carries a Content-Length). */
  async response(): Promise<RawResponse> {
    for (;;) {
      const end = this.buffered.indexOf('\r\n\r\n');
      if (end !== -1) {
        const head = this.buffered.subarray(0, end).toString('latin1');
        const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
        if (this.buffered.length >= end + 4 + length) {
          const body = this.buffered.subarray(end + 4, end + 4 + length).toString('utf8');
          this.buffered = this.buffered.subarray(end + 4 + length);
          return { status: Number(head.split(' ')[1]), body };
        }
      }
      const next = await this.chunks.next();
      if (next.done === true) throw new Error('the gateway closed the connection without answering');
      this.buffered = Buffer.concat([this.buffered, next.value]);
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

/**
 * A multipart upload refused after only part of its body was read (a 400 about its first bytes)
 * must not stall its keep-alive connection: busboy's reader leaves the request paused and marked
 * as being read, so Node does not discard the rest of the body by itself, stops reading the
 * socket once its buffer is full, and never sees the client's next request (ADR 0028).
 */
describe('a refused multipart upload keeps its connection usable', () => {
  let env: TestEnvironment;
  let gateway: RunningGateway;
  let token: string;

  before(async () => {
    env = await createTestEnvironment({
      HEADERS_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
    });
    gateway = await startTestGateway(env.config);
    token = await createApiKey(env.config);
  });
  after(async () => {
    await gateway?.close();
    await env?.cleanup();
  });

  // With the first bytes of its content: busboy hands over a file part once it sees some.
  const fileHead = (boundary: string, name: string) =>
    `--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nfirst bytes`;
  const cases: Array<{ refusal: string; contentType: string; head: string; message: RegExp }> = [
    {
      refusal: 'no boundary (the parser fails)',
      contentType: 'multipart/form-data',
      head: 'x',
      message: /Boundary not found/,
    },
    {
      refusal: 'an unexpected file part (the reader throws in the middle of the parts)',
      contentType: 'multipart/form-data; boundary=b0',
      head: fileHead('b0', 'other'),
      message: /^other: unexpected file part/,
    },
    {
      refusal: 'an unknown field before the file',
      contentType: 'multipart/form-data; boundary=b0',
      head: `--b0\r\nContent-Disposition: form-data; name="bogus"\r\n\r\nx\r\n${fileHead('b0', 'file')}`,
      message: /^bogus: is not an upload field/,
    },
  ];

  for (const { refusal, contentType, head, message } of cases) {
    it(`answers the next request on the connection after refusing ${refusal}`, async () => {
      const socket = connect(Number(new URL(gateway.baseUrl).port), '127.0.0.1');
      const connection = new RawConnection(socket);
      try {
        const rest = Buffer.alloc(REST_BYTES, 'a');
        connection.send(
          `POST /documents HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer ${token}\r\n` +
            `Content-Type: ${contentType}\r\nContent-Length: ${head.length + rest.length}\r\n\r\n${head}`,
        );
        // Refused from its first bytes: the rest of the body is sent only once the answer is in.
        const refused = await connection.response();
        assert.equal(refused.status, 400, refused.body);
        assert.match((JSON.parse(refused.body) as { message: string }).message, message);
        connection.send(rest);
        connection.send('GET /health/live HTTP/1.1\r\nHost: gateway\r\n\r\n');
        const next = await connection.response();
        assert.equal(next.status, 200, next.body);
        assert.deepEqual(JSON.parse(next.body), { status: 'ok' });
      } finally {
        connection.close();
      }
    });
  }
});
