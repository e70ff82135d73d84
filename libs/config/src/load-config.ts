import { configSchema, type AppConfig } from './config.schema.js';

export class ConfigError extends Error {}

/** Parses the environment; the message names every bad variable so the operator can fix them at once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  const parsed = configSchema.safeParse(env);
  if (parsed.success) {
    if (parsed.data.CHUNK_OVERLAP >= parsed.data.CHUNK_SIZE) {
      throw new ConfigError('Invalid configuration: CHUNK_OVERLAP must be smaller than CHUNK_SIZE');
    }
    return parsed.data;
  }
  const problems = parsed.error.issues.map((issue) => `  ${issue.path.join('.')}: ${issue.message}`);
  throw new ConfigError(`Invalid configuration:\n${problems.join('\n')}`);
}
