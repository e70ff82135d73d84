import { Server as NetServer, type Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';

/**
 * Connections that have sent nothing for this long are closed once the shutdown began. A client
 * that sends at least this often gets its last answer with `Connection: close` and closes the
 * connection itself. The server cannot see a request still unread in the socket's buffer, so
 * closing a connection it thinks idle can reset one: at 1 s, 52 of 2,264 requests were reset
 * when the loaded test machine let 500 clients send only every 2 s or so.
 */
const IDLE_GRACE_MS = 5_000;
/** How often the shutdown looks for connections idle that long. */
const IDLE_CHECK_MS = 250;

interface ConnectionState {
  requestsInProgress: number;
  idleSince: number;
}

/**
 * A gateway told to stop loses no request (docs/reliability.md, "Faults"): it stops accepting
 * connections, answers every request already sent (Fastify's `return503OnClosing` is off), and
 * closes keep-alive connections politely — each one after its next answer, which carries
 * `Connection: close` — instead of all idle ones at once.
 *
 * Node's http `server.close()` closes every idle keep-alive connection the moment it is called,
 * and `closeIdleConnections()` every connection between two requests: a client that sent its next
 * request on such a connection in that moment gets a reset (with Fastify's 503s, 68 of 5,749
 * requests failed when a gateway of two got SIGTERM under 500 clients). So this preClose hook
 * (Fastify runs it once its routes answer with `Connection: close`) stops listening at the net
 * level, which leaves open connections alone, and waits until every connection has closed: active
 * ones close after their answer; one with nothing in progress is closed once it has been idle for
 * IDLE_GRACE_MS, measured per connection; anything left after `maxWaitMs` (a request waiting for a
 * query worker) is cut. Fastify's own close then finds nothing left to wait for.
 */
export function installGracefulClose(fastify: FastifyInstance, maxWaitMs: number): void {
  const server = fastify.server;
  const connections = new Map<Socket, ConnectionState>();
  server.on('connection', (socket: Socket) => {
    connections.set(socket, { requestsInProgress: 0, idleSince: performance.now() });
    socket.once('close', () => connections.delete(socket));
  });
  server.on('request', (request, response) => {
    const connection = connections.get(request.socket);
    if (connection === undefined) return;
    connection.requestsInProgress++;
    response.once('close', () => {
      connection.requestsInProgress--;
      connection.idleSince = performance.now();
    });
  });

  const closeLongIdle = (): void => {
    const idleBefore = performance.now() - IDLE_GRACE_MS;
    for (const [socket, connection] of connections) {
      if (connection.requestsInProgress === 0 && connection.idleSince <= idleBefore) socket.destroy();
    }
  };

  fastify.addHook('preClose', async () => {
    if (!server.listening) return;
    const timers: NodeJS.Timeout[] = [];
    await new Promise<void>((resolve) => {
      NetServer.prototype.close.call(server, () => resolve());
      timers.push(setInterval(closeLongIdle, IDLE_CHECK_MS));
      timers.push(setTimeout(() => server.closeAllConnections(), maxWaitMs));
    });
    for (const timer of timers) clearTimeout(timer);
  });
}
