import { configSchema, type AppConfig } from './config.schema.js';

export class ConfigError extends Error {}

/** Parses the environment; the message names every bad variable so the operator can fix them at once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = configSchema.safeParse(env);
  if (parsed.success) {
    if (parsed.data.CHUNK_OVERLAP >= parsed.data.CHUNK_SIZE) {
      throw new ConfigError('Invalid configuration: CHUNK_OVERLAP must be smaller than CHUNK_SIZE');
    }
    if (parsed.data.HEADERS_TIMEOUT_MS > parsed.data.REQUEST_TIMEOUT_MS) {
      throw new ConfigError(
        'Invalid configuration: HEADERS_TIMEOUT_MS must not exceed REQUEST_TIMEOUT_MS (the headers are part of the request)',
      );
    }
    // One without the other is a half-done setup: refuse it rather than silently leave the dashboard off.
    if ((parsed.data.ADMIN_USER === undefined) !== (parsed.data.ADMIN_PASSWORD === undefined)) {
      throw new ConfigError('Invalid configuration: set both ADMIN_USER and ADMIN_PASSWORD, or neither');
    }
    return parsed.data;
  }
  const problems = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
  throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);
}
