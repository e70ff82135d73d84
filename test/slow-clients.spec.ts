import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createApiKey } from './support/api-keys.js';
import { startTestGateway, type RunningGateway } from './support/gateway.js';
import { createTestEnvironment, type TestEnvironment } from './support/test-environment.js';

const HEADERS_TIMEOUT_MS = 1_500;
const REQUEST_TIMEOUT_MS = 3_000;
const SLOW_CLIENTS = 30;
/** Far past the timeouts plus Node's 1 s check: a socket still open then was never cut off. */
const GIVE_UP_MS = 20_000;

interface SlowClient {
  socket: Socket;
  /** What the server sent before closing, and when it closed (ms after the client connected). */
  outcome: Promise<{ answer: string; closedAfterMs: number }>;
  stop(): void;
}

/** A client that sends `head` at once, then `trickle` one byte every 100 ms (nothing when empty) until the server closes. */
function slowClient(port: number, head: string, trickle: string): SlowClient {
  const socket = connect(port, '127.0.0.1');
  const connectedAt = performance.now();
  let answer = '';
  let sent = 0;
  const timer = setInterval(() => {
    if (trickle !== '' && !socket.destroyed && socket.writable)
      socket.write(trickle[sent++ % trickle.length]);
  }, 100);
  socket.on('connect', () => {
    if (head !== '') socket.write(head);
  });
  socket.on('data', (data) => (answer += data.toString()));
  socket.on('error', () => undefined); // a reset is one way of being cut off
  const outcome = new Promise<{ answer: string; closedAfterMs: number }>((resolve) => {
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ answer, closedAfterMs: performance.now() - connectedAt });
    });
  });
  return {
    socket,
    outcome,
    stop: () => {
      clearInterval(timer);
      socket.destroy();
    },
  };
}

/**
 * Slowloris and slow bodies (issue 6): headers or a body trickled byte by byte are answered 408
 * and closed after HEADERS_TIMEOUT_MS / REQUEST_TIMEOUT_MS, while ordinary clients are served.
 */
describe('slow clients', () => {
  let env: TestEnvironment;
  let gateway: RunningGateway;
  let port: number;
  let token: string;
  const clients: SlowClient[] = [];

  before(async () => {
    env = await createTestEnvironment({
      HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
      REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
    });
    token = await createApiKey(env.config);
    gateway = await startTestGateway(env.config);
    port = Number(new URL(gateway.baseUrl).port);
  });
  after(async () => {
    for (const client of clients) client.stop();
    await gateway?.close();
    await env?.cleanup();
  });

  async function cutOff(client: SlowClient): Promise<{ answer: string; closedAfterMs: number }> {
    clients.push(client);
    const result = await Promise.race([client.outcome, sleep(GIVE_UP_MS, undefined, { ref: false })]);
    assert.ok(result !== undefined, `the server left a slow client open for ${GIVE_UP_MS} ms`);
    return result;
  }

  it('cuts off trickled headers with 408 while other clients are served', async (t) => {
    const trickling = Array.from({ length: SLOW_CLIENTS }, () =>
      slowClient(port, 'GET /health/live HTTP/1.1\r\nHost: localhost\r\n', 'X-Slow: abcdefghij\r\n'),
    );
    // Served while the slow clients hold their sockets.
    let served = 0;
    for (let i = 0; i < 50; i++) {
      const response = await fetch(`${gateway.baseUrl}/health/live`);
      assert.equal(response.status, 200);
      await response.arrayBuffer();
      served++;
    }
    const results = await Promise.all(trickling.map(cutOff));
    for (const { answer, closedAfterMs } of results) {
      assert.match(answer, /^HTTP\/1\.1 408/, 'the slow client is told why');
      assert.ok(
        closedAfterMs >= HEADERS_TIMEOUT_MS - 100,
        `closed after ${closedAfterMs} ms, not before the timeout`,
      );
    }
    const slowest = Math.max(...results.map((result) => result.closedAfterMs));
    t.diagnostic(
      `${SLOW_CLIENTS} clients trickling headers cut off with 408 within ${Math.round(slowest)} ms ` +
        `(HEADERS_TIMEOUT_MS ${HEADERS_TIMEOUT_MS}); ${served} ordinary requests served meanwhile`,
    );
  });

  it('cuts off a trickled upload body with 408 and stores nothing', async (t) => {
    const body = JSON.stringify({ title: 'Slow upload', content: 'x'.repeat(2_000) });
    const head =
      `POST /documents HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const { answer, closedAfterMs } = await cutOff(slowClient(port, head, body));
    assert.match(answer, /^HTTP\/1\.1 408/);
    assert.ok(closedAfterMs >= REQUEST_TIMEOUT_MS - 100, `closed after ${closedAfterMs} ms`);

    const list = await fetch(`${gateway.baseUrl}/documents`, {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.deepEqual(((await list.json()) as { items: unknown[] }).items, []);
    t.diagnostic(
      `a body trickled at 10 bytes/s cut off after ${Math.round(closedAfterMs)} ms, nothing stored`,
    );
  });

  it('closes a connection that never sends a byte', async (t) => {
    const { closedAfterMs } = await cutOff(slowClient(port, '', ''));
    assert.ok(closedAfterMs >= HEADERS_TIMEOUT_MS - 100, `closed after ${closedAfterMs} ms`);
    t.diagnostic(`a silent connection closed after ${Math.round(closedAfterMs)} ms`);
  });
});
