import { Server as NetServer } from 'node:net';
import type { FastifyInstance } from 'fastify';

/**
 * Connections that have sent nothing for this long since the shutdown began are closed. A client
 * that sends at least this often gets its last answer with `Connection: close` and closes the
 * connection itself. The server cannot see a request still unread in the socket's buffer, so
 * closing a connection it thinks idle can reset one: at 1 s, 52 of 2,264 requests were reset
 * when the loaded test machine let 500 clients send only every 2 s or so.
 */
const IDLE_GRACE_MS = 5_000;

/**
 * A gateway told to stop loses no request (docs/reliability.md, "Faults"): it stops accepting
 * connections, answers every request already sent (Fastify's `return503OnClosing` is off), and
 * closes keep-alive connections politely — each one after its next answer, which carries
 * `Connection: close` — instead of all idle ones at once.
 *
 * Node's http `server.close()` closes every idle keep-alive connection the moment it is called.
 * A client that sent its next request on such a connection in that moment gets a reset (with
 * Fastify's 503s, 68 of 5,749 requests failed when a gateway of two got SIGTERM under 500
 * clients). So this
 * preClose hook (Fastify runs it once its routes answer with `Connection: close`) stops
 * listening at the net level, which leaves open connections alone, and waits until every
 * connection has closed: active ones close after their answer; idle ones are closed after
 * IDLE_GRACE_MS; anything left after `maxWaitMs` (a request waiting for a query worker) is cut.
 * Fastify's own close then finds nothing left to wait for.
 */
export function installGracefulClose(fastify: FastifyInstance, maxWaitMs: number): void {
  fastify.addHook('preClose', async () => {
    const server = fastify.server;
    if (!server.listening) return;
    const timers: NodeJS.Timeout[] = [];
    await new Promise<void>((resolve) => {
      NetServer.prototype.close.call(server, () => resolve());
      timers.push(setInterval(() => server.closeIdleConnections(), IDLE_GRACE_MS));
      timers.push(setTimeout(() => server.closeAllConnections(), maxWaitMs));
    });
    for (const timer of timers) clearTimeout(timer);
  });
}
