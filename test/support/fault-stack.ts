import { loadConfig, type AppConfig } from '#libs/config';
import { runMigrations } from '#libs/database';
import { createApiKey } from './api-keys.js';
import { AppProcess, type AppName } from './app-process.js';
import { PrivatePostgres } from './private-postgres.js';
import { PrivateRedis } from './private-redis.js';
import { sparePort } from './spare-port.js';

/**
 * The whole system for a fault test, every part its own process: a private Postgres cluster and
 * redis-server (which the test may stop), a gateway, an ingest worker and a query worker started
 * from the compiled apps. Nothing is shared with other tests or engineers.
 */
export class FaultStack {
  readonly apps = new Map<string, AppProcess>();

  private constructor(
    readonly postgres: PrivatePostgres,
    readonly redis: PrivateRedis,
    /** The apps' environment: the whole configuration they run with. */
    readonly env: Record<string, string>,
    readonly config: AppConfig,
    /** A key with every scope in the default tenant. */
    readonly token: string,
  ) {}

  /** `settings` override the defaults below (any key of the configuration schema). */
  static async start(settings: Record<string, string> = {}): Promise<FaultStack> {
    const [postgres, redis] = await Promise.all([PrivatePostgres.start(), PrivateRedis.start()]);
    try {
      const env: Record<string, string> = {
        NODE_ENV: 'test',
        LOG_LEVEL: 'warn',
        HOST: '127.0.0.1',
        DATABASE_URL: postgres.url(),
        DATABASE_POOL_SIZE: '4',
        REDIS_URL: redis.url,
        REDIS_KEY_PREFIX: 'fault',
        GATEWAY_WORKERS: '1',
        // Event-loop delay on a shared 2-core machine measures the neighbours: shedding is tested
        // on its own (overload-shedding.spec.ts), as in every integration test.
        OVERLOAD_MAX_EVENT_LOOP_DELAY_MS: '0',
        RECONCILE_INTERVAL_MS: '1000',
        ...settings,
      };
      const config = loadConfig(env);
      await runMigrations(config.DATABASE_URL);
      const token = await createApiKey(config, { name: 'fault-test' });
      return new FaultStack(postgres, redis, env, config, token);
    } catch (error) {
      await Promise.allSettled([postgres.destroy(), redis.destroy()]);
      throw error;
    }
  }

  /** Starts an app as a child process on spare ports; `label` names it in this stack (default: the app). */
  async startApp(
    name: AppName,
    settings: Record<string, string> = {},
    label: string = name,
  ): Promise<AppProcess> {
    const port = await sparePort();
    const portSetting: Record<string, string> =
      name === 'gateway' ? { PORT: `${port}` } : { WORKER_HTTP_PORT: `${port}` };
    const app = await AppProcess.start(name, { ...this.env, ...portSetting, ...settings }, port);
    this.apps.set(label, app);
    return app;
  }

  app(label: string): AppProcess {
    const app = this.apps.get(label);
    if (app === undefined) throw new Error(`no app ${label} in this stack`);
    return app;
  }

  /** The last lines of every app's output, for a failure message. */
  tails(count = 30): string {
    return [...this.apps.values()].map((app) => app.tail(count)).join('\n');
  }

  /**
   * For `after` hooks, even after a failure: every app is killed by its pid (a graceful stop is
   * each test's business), then the servers are stopped and their files removed.
   */
  async destroy(): Promise<void> {
    await Promise.allSettled([...this.apps.values()].map((app) => app.kill()));
    await Promise.allSettled([this.postgres.destroy(), this.redis.destroy()]);
  }
}
