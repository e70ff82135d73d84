import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '#libs/config';
import { runMigrations } from '#libs/database';
import { createLogger } from '#libs/observability';

/**
 * `npm start`: migrations, then the gateway, one ingest worker and one query worker as one
 * foreground process tree. SIGINT/SIGTERM go to every child. A child that dies on its own
 * stops the rest and this exits non-zero: restarting is the orchestrator's job, not ours.
 */
const APPS = {
  gateway: '../../gateway/src/main.js',
  'ingest-worker': '../../ingest-worker/src/main.js',
  'query-worker': '../../query-worker/src/main.js',
} as const;

const config = loadConfig();
const logger = createLogger('start-all', config.LOG_LEVEL);

// Both workers read the one WORKER_HTTP_PORT: a fixed value would make them collide. Unset, they
// take their defaults (ingest 8001, query 8002); 0 gives each a free port.
if (config.WORKER_HTTP_PORT !== undefined && config.WORKER_HTTP_PORT !== 0) {
  logger.fatal(
    { WORKER_HTTP_PORT: config.WORKER_HTTP_PORT },
    'npm start runs two workers: leave WORKER_HTTP_PORT unset (8001 and 8002) or 0 (free ports)',
  );
  process.exit(1);
}

const applied = await runMigrations(config.DATABASE_URL);
logger.info({ applied }, applied.length === 0 ? 'schema up to date' : 'migrations applied');

const children = new Map<string, ChildProcess>();
let stopping = false;
let exitCode = 0;

function stopAll(signal: NodeJS.Signals): void {
  for (const child of children.values()) child.kill(signal);
}

for (const [name, path] of Object.entries(APPS)) {
  // Own process group: a terminal's Ctrl+C reaches only this launcher, which forwards it once.
  // (Nest exits at once on a second signal, which would cut a graceful shutdown short.)
  const child = spawn(process.execPath, [fileURLToPath(new URL(path, import.meta.url))], {
    stdio: 'inherit',
    detached: true,
  });
  children.set(name, child);
  child.on('exit', (code, signal) => {
    children.delete(name);
    if (!stopping) {
      logger.error({ process: name, code, signal }, 'process exited unexpectedly; stopping the others');
      stopping = true;
      exitCode = 1;
      stopAll('SIGTERM');
    } else {
      logger.info({ process: name, code, signal }, 'process stopped');
      if (code !== 0 && signal === null) exitCode = 1;
    }
    if (children.size === 0) process.exit(exitCode);
  });
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    logger.info({ signal }, 'stopping every process');
    stopping = true;
    stopAll(signal);
  });
}
