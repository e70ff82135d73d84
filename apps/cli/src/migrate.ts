import { loadConfig } from '#libs/config';
import { runMigrations } from '#libs/database';

/** `npm run migrate`: applies pending migrations (safe to run from several processes at once). */
try {
  const config = loadConfig();
  const applied = await runMigrations(config.DATABASE_URL);
  process.stdout.write(
    applied.length === 0
      ? 'Database schema is up to date; nothing to apply.\n'
      : `Applied ${applied.length} migration(s):\n${applied.map((name) => `  ${name}\n`).join('')}`,
  );
} catch (error: unknown) {
  process.stderr.write(`migrate: ${(error as Error).message}\n`);
  process.exitCode = 1;
}
