import type { Queue, QueueEvents, RedisClient, Worker } from 'bullmq';

/** How often a closing process checks whether Redis still answers. */
const CHECK_INTERVAL_MS = 250;

/**
 * Call when the process starts to stop: from then on, each BullMQ worker, queue or event listener
 * is disconnected as soon as its connection is not ready, so that its close() cannot wait for
 * Redis forever.
 *
 * close() drains (a worker waits for the jobs in hand) and then QUITs its connections. While Redis
 * is unreachable neither can finish: a worker's jobs wait on their own Redis commands (progress,
 * lock, completion), and a QUIT waits behind the commands queued for the reconnection, so a
 * process told to stop during an outage never stopped. Disconnecting fails those commands at once:
 * a worker's jobs stay `active` in Redis and BullMQ's stalled-job check hands them to a worker once
 * Redis is back (jobs are idempotent: job id = document id, chunks replaced in one transaction).
 * While Redis answers this does nothing, and close() drains as usual.
 */
export function disconnectWhileRedisIsDown(targets: readonly (Worker | Queue | QueueEvents)[]): void {
  let checking = false;
  const timer = setInterval(() => {
    if (checking) return;
    checking = true;
    void Promise.all(targets.map(connectionsOf))
      .then((connections) => {
        const clients = connections.flat();
        for (const client of clients) if (client.status !== 'ready') endNow(client);
        if (clients.every((client) => client.status === 'end')) clearInterval(timer);
      })
      .catch(() => undefined)
      .finally(() => (checking = false));
  }, CHECK_INTERVAL_MS).unref();
}

async function connectionsOf(target: Worker | Queue | QueueEvents): Promise<RedisClient[]> {
  const backend = target.getBackend();
  const clients = [await backend.client, await backend.blockingClient];
  return clients.filter((client): client is RedisClient => client !== undefined);
}

/**
 * Ends the connection and fails the commands waiting on it. Between two reconnection attempts
 * ioredis's disconnect() alone neither fails the queued commands nor emits 'end' (there is no
 * socket to close), which leaves BullMQ's close() waiting: start an attempt first, so that
 * disconnect() aborts it, which fails the queue and ends the client.
 */
function endNow(client: RedisClient): void {
  if (client.status === 'end') return;
  if (client.status === 'reconnecting') client.connect().catch(() => undefined);
  client.disconnect();
}
