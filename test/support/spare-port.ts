import { createServer } from 'node:net';

/** The fault suites' own range: private Redis and Postgres servers and child apps, never the shared ones. */
export const FAULT_PORT_RANGE = { first: 25_000, last: 25_999 } as const;

const handedOut = new Set<number>();

/**
 * A port of 127.0.0.1 in `range` (the fault suites' by default) that nothing listens on now and that this process has
 * not handed out before (a server started from it may not be listening yet). Starts at a random
 * offset, so test files running at once rarely try the same ports.
 */
export async function sparePort(range: { first: number; last: number } = FAULT_PORT_RANGE): Promise<number> {
  const span = range.last - range.first + 1;
  const offset = Math.floor(Math.random() * span);
  for (let i = 0; i < span; i++) {
    const port = range.first + ((offset + i) % span);
    if (handedOut.has(port)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer()
        .once('error', () => resolve(false))
        .listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) {
      handedOut.add(port);
      return port;
    }
  }
  throw new Error(`no free port in ${range.first}-${range.last}`);
}
