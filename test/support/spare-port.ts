import { createServer } from 'node:net';

/** The fault suites' own range: private Redis and Postgres servers and child apps, never the shared ones. */
export const FAULT_PORT_RANGE = { first: 25_000, last: 25_999 } as const;

const handedOut = new Set<number>();

/**
 * A port of 127.0.0.1 in FAULT_PORT_RANGE that nothing listens on now and that this process has
 * not handed out before (a server started from it may not be listening yet). Starts at a random
 * offset, so test files running at once rarely try the same ports.
 */
export async function sparePort(): Promise<number> {
  const span = FAULT_PORT_RANGE.last - FAULT_PORT_RANGE.first + 1;
  const offset = Math.floor(Math.random() * span);
  for (let i = 0; i < span; i++) {
    const port = FAULT_PORT_RANGE.first + ((offset + i) % span);
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
  throw new Error(`no free port in ${FAULT_PORT_RANGE.first}-${FAULT_PORT_RANGE.last}`);
}
