import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import {
  ALL_SCOPES,
  DEFAULT_TENANT,
  isScope,
  isTenantId,
  TENANT_PATTERN,
  type Scope,
  type TenantId,
} from '#libs/contracts';

/** How long a rotated-out token keeps working unless --grace-minutes says otherwise. */
const DEFAULT_GRACE_MINUTES = 24 * 60;

const USAGE = `Usage:
  npm run apikey -- create --name <name> [--tenant <tenant>] [--scopes <a,b>] [--token <exact token>]
                           [--rate-limit <requests per minute>]
  npm run apikey -- revoke --name <name>
  npm run apikey -- rotate --name <name> [--grace-minutes <minutes>]
  npm run apikey -- list
  npm run apikey -- tenant --tenant <tenant> --rate-limit <requests per minute | none>

create prints the token as the last line of its output; only its hash is stored. Without --token a
random token is generated. The tenant defaults to "${DEFAULT_TENANT}" and is created with its first key;
scopes are any of ${ALL_SCOPES.join(', ')} (default: all). Without --rate-limit the key gets
DEFAULT_RATE_LIMIT_PER_MINUTE.
rotate prints a new token last; the old one keeps working for --grace-minutes (default ${DEFAULT_GRACE_MINUTES},
i.e. 24 hours; 0 ends it at once), then stops.
list shows every key without its token. tenant sets (or with "none" removes) the limit shared by all
of a tenant's keys.
`;

class UsageError extends Error {}

type Command =
  | { action: 'help' }
  | {
      action: 'create';
      name: string;
      tenant: TenantId;
      scopes: Scope[];
      token: string | undefined;
      rateLimit: number | null;
    }
  | { action: 'revoke'; name: string }
  | { action: 'rotate'; name: string; graceMinutes: number }
  | { action: 'list' }
  | { action: 'tenant'; tenant: TenantId; rateLimit: number | null };

type Values = Partial<
  Record<'name' | 'tenant' | 'scopes' | 'token' | 'rate-limit' | 'grace-minutes', string>
>;

const OPTIONS_OF: Record<Exclude<Command['action'], 'help'>, (keyof Values)[]> = {
  create: ['name', 'tenant', 'scopes', 'token', 'rate-limit'],
  revoke: ['name'],
  rotate: ['name', 'grace-minutes'],
  list: [],
  tenant: ['tenant', 'rate-limit'],
};

function positiveInteger(value: string, option: string, meaning: string, allowZero = false): number {
  const number = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(number) || number < (allowZero ? 0 : 1)) {
    throw new UsageError(
      `--${option} must be a ${allowZero ? 'non-negative' : 'positive'} integer (${meaning})`,
    );
  }
  return number;
}

function parseTenant(value: string | undefined): TenantId {
  if (value === undefined) return DEFAULT_TENANT;
  if (!isTenantId(value)) throw new UsageError(`--tenant must match ${TENANT_PATTERN.source}`);
  return value;
}

function parseScopes(value: string | undefined): Scope[] {
  if (value === undefined) return [...ALL_SCOPES];
  const scopes = [...new Set(value.split(',').map((scope) => scope.trim()))];
  const unknown = scopes.find((scope) => !isScope(scope));
  if (unknown !== undefined || scopes.length === 0) {
    throw new UsageError(`--scopes takes a comma-separated list of ${ALL_SCOPES.join(', ')}`);
  }
  return scopes.filter(isScope);
}

function requireName(values: Values): string {
  const name = values.name?.trim();
  if (name === undefined || name === '') throw new UsageError('--name is required');
  return name;
}

function parseCommand(argv: string[]): Command {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        name: { type: 'string' },
        tenant: { type: 'string' },
        scopes: { type: 'string' },
        token: { type: 'string' },
        'rate-limit': { type: 'string' },
        'grace-minutes': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error: unknown) {
    throw new UsageError((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help === true) return { action: 'help' };
  const [action, ...extra] = positionals;
  if (action === undefined) throw new UsageError('missing command');
  if (!Object.hasOwn(OPTIONS_OF, action)) throw new UsageError(`unknown command "${action}"`);
  const known = action as keyof typeof OPTIONS_OF;
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  const given = Object.keys(values).filter((option) => option !== 'help') as (keyof Values)[];
  const stray = given.find((option) => !OPTIONS_OF[known].includes(option));
  if (stray !== undefined) throw new UsageError(`${known} does not take --${stray}`);

  switch (known) {
    case 'create': {
      if (values.token !== undefined && values.token.trim() === '')
        throw new UsageError('--token must not be empty');
      return {
        action: known,
        name: requireName(values),
        tenant: parseTenant(values.tenant),
        scopes: parseScopes(values.scopes),
        token: values.token,
        rateLimit:
          values['rate-limit'] === undefined
            ? null
            : positiveInteger(values['rate-limit'], 'rate-limit', 'requests per minute'),
      };
    }
    case 'revoke':
      return { action: known, name: requireName(values) };
    case 'rotate':
      return {
        action: known,
        name: requireName(values),
        graceMinutes:
          values['grace-minutes'] === undefined
            ? DEFAULT_GRACE_MINUTES
            : positiveInteger(values['grace-minutes'], 'grace-minutes', 'minutes', true),
      };
    case 'list':
      return { action: known };
    case 'tenant': {
      if (values.tenant === undefined) throw new UsageError('--tenant is required');
      const limit = values['rate-limit'];
      if (limit === undefined) throw new UsageError('--rate-limit is required (a number, or none)');
      return {
        action: known,
        tenant: parseTenant(values.tenant),
        rateLimit: limit === 'none' ? null : positiveInteger(limit, 'rate-limit', 'requests per minute'),
      };
    }
  }
}

/** 32 random bytes: guessing is hopeless, so the unsalted SHA-256 stored is enough. */
function newToken(): string {
  return `rag_${randomBytes(32).toString('base64url')}`;
}

const dateOrDash = (date: Date | null): string => date?.toISOString() ?? '-';

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
  const out = (text: string): void => {
    process.stdout.write(text);
  };
  try {
    const apiKeys = new ApiKeysRepository(dataSource);
    switch (command.action) {
      case 'revoke': {
        if (!(await apiKeys.revoke(command.name))) {
          process.stderr.write(`No active API key named "${command.name}".\n`);
          return 1;
        }
        out(`Revoked API key "${command.name}"; gateways stop accepting it within seconds.\n`);
        return 0;
      }
      case 'rotate': {
        const token = newToken();
        const graceEnds = new Date(Date.now() + command.graceMinutes * 60_000);
        const key = await apiKeys.rotate(command.name, hashApiKey(token), graceEnds);
        if (key === null) {
          process.stderr.write(`No active API key named "${command.name}".\n`);
          return 1;
        }
        out(
          `Rotated API key "${key.name}" (tenant ${key.tenant}); the old token works until ${graceEnds.toISOString()}.\n` +
            'Store the new token now: only its hash is kept.\n' +
            `${token}\n`,
        );
        return 0;
      }
      case 'list': {
        const rows = await apiKeys.list();
        const table = [
          ['name', 'tenant', 'scopes', 'rate limit', 'created', 'revoked', 'last used', 'old token until'],
          ...rows.map((row) => [
            row.name,
            row.tenant,
            row.scopes.join(','),
            `${row.rateLimit ?? `default (${config.DEFAULT_RATE_LIMIT_PER_MINUTE})`}` +
              (row.tenantRateLimit === null ? '' : `; tenant ${row.tenantRateLimit}`),
            dateOrDash(row.createdAt),
            dateOrDash(row.revokedAt),
            dateOrDash(row.lastUsedAt),
            dateOrDash(row.previousKeyExpiresAt),
          ]),
        ];
        const widths = table[0].map((_, column) => Math.max(...table.map((line) => line[column].length)));
        for (const line of table) {
          out(
            `${line
              .map((cell, column) => cell.padEnd(widths[column]))
              .join('  ')
              .trimEnd()}\n`,
          );
        }
        return 0;
      }
      case 'tenant': {
        if (!(await apiKeys.setTenantRateLimit(command.tenant, command.rateLimit))) {
          process.stderr.write(`No tenant "${command.tenant}": create a key in it first.\n`);
          return 1;
        }
        out(
          command.rateLimit === null
            ? `Tenant "${command.tenant}" has no tenant-wide rate limit.\n`
            : `Tenant "${command.tenant}": ${command.rateLimit} requests per minute over all its keys.\n`,
        );
        return 0;
      }
      case 'create': {
        const token = command.token ?? newToken();
        const key = await apiKeys.upsert({
          name: command.name,
          tenant: command.tenant,
          scopes: command.scopes,
          keyHash: hashApiKey(token),
          rateLimit: command.rateLimit,
        });
        const limit =
          key.rateLimit === null
            ? `default (${config.DEFAULT_RATE_LIMIT_PER_MINUTE})`
            : String(key.rateLimit);
        out(
          `API key "${key.name}" (id ${key.id}) in tenant "${key.tenant}", scopes ${key.scopes.join(',')}, ` +
            `rate limit ${limit} requests per minute.\n` +
            'Store the token now: only its hash is kept.\n' +
            `${token}\n`,
        );
        return 0;
      }
    }
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
