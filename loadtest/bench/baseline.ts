import { fork } from 'node:child_process';
import { once } from 'node:events';

export interface BaselineServer {
  url: URL;
  pid: number;
  stop(): Promise<void>;
}

/** Forks the bare Fastify baseline (baseline-server.js) on a free port of 127.0.0.1. */
export async function startBaselineServer(): Promise<BaselineServer> {
  const child = fork(new URL('./baseline-server.js', import.meta.url), [], {
    execArgv: [],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const timeout = AbortSignal.timeout(15_000);
  const [message] = (await once(child, 'message', { signal: timeout })) as [{ port: number }];
  if (child.pid === undefined) throw new Error('baseline server did not start');
  const exited = once(child, 'exit');
  return {
    url: new URL(`http://127.0.0.1:${message.port}`),
    pid: child.pid,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
