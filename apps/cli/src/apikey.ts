import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';

const USAGE = `Usage:
  npm run apikey -- create --name <name> [--token <exact token>] [--rate-limit <requests per minute>]
  npm run apikey -- revoke --name <name>

create prints the token as the last line of its output; only its hash is stored.
Without --token a random token is generated. Without --rate-limit the key gets DEFAULT_RATE_LIMIT_PER_MINUTE.
`;

class UsageError extends Error {}

interface Command {
  action: 'create' | 'revoke' | 'help';
  name: string;
  token: string | undefined;
  rateLimit: number | null;
}

function parseCommand(argv: string[]): Command {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        name: { type: 'string' },
        token: { type: 'string' },
        'rate-limit': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error: unknown) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help === true) return { action: 'help', name: '', token: undefined, rateLimit: null };
  const [action, ...extra] = positionals;
  if (action !== 'create' && action !== 'revoke') {
    throw new UsageError(action === undefined ? 'missing command' : `unknown command "${action}"`);
  }
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  const name = values.name?.trim();
  if (name === undefined || name === '') throw new UsageError('--name is required');
  if (action === 'revoke' && (values.token !== undefined || values['rate-limit'] !== undefined)) {
    throw new UsageError('revoke takes only --name');
  }
  if (values.token !== undefined && values.token.trim() === '')
    throw new UsageError('--token must not be empty');
  let rateLimit: number | null = null;
  if (values['rate-limit'] !== undefined) {
    rateLimit = Number(values['rate-limit']);
    if (!/^\d+$/.test(values['rate-limit']) || !Number.isSafeInteger(rateLimit) || rateLimit < 1) {
      throw new UsageError('--rate-limit must be a positive integer (requests per minute)');
    }
  }
  return { action, name, token: values.token, rateLimit };
}

async function run(command: Command): Promise<number> {
  if (command.action === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  // Loaded only once the arguments are valid: a usage error answers without loading TypeORM.
  const [{ loadConfig }, { ApiKeysRepository, createDataSource, hashApiKey }] = await Promise.all([
    import('#libs/config'),
    import('#libs/database'),
  ]);
  const config = loadConfig();
  const dataSource = createDataSource({
    url: config.DATABASE_URL,
    poolSize: 1,
    applicationName: 'rag-gateway:cli',
  });
  await dataSource.initialize();
  try {
    const apiKeys = new ApiKeysRepository(dataSource);
    if (command.action === 'revoke') {
      if (!(await apiKeys.revoke(command.name))) {
        process.stderr.write(`No active API key named "${command.name}".\n`);
        return 1;
      }
      process.stdout.write(`Revoked API key "${command.name}"; gateways stop accepting it within seconds.\n`);
      return 0;
    }
    // 32 random bytes: guessing is hopeless, so the unsalted SHA-256 stored is enough.
    const token = command.token ?? `rag_${randomBytes(32).toString('base64url')}`;
    const key = await apiKeys.upsert(command.name, hashApiKey(token), command.rateLimit);
    const limit =
      key.rateLimit === null ? `default (${config.DEFAULT_RATE_LIMIT_PER_MINUTE})` : String(key.rateLimit);
    process.stdout.write(
      `API key "${key.name}" (id ${key.id}), rate limit ${limit} requests per minute.\n` +
        'Store the token now: only its hash is kept.\n' +
        `${token}\n`,
    );
    return 0;
  } finally {
    await dataSource.destroy();
  }
}

try {
  process.exitCode = await run(parseCommand(process.argv.slice(2)));
} catch (error: unknown) {
  if (error instanceof UsageError) {
    process.stderr.write(`apikey: ${error.message}\n\n${USAGE}`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`apikey: ${(error as Error).message}\n`);
    process.exitCode = 1;
  }
}
