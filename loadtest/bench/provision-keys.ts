import { parseArgs } from 'node:util';
import pg from 'pg';
import { loadConfig } from '#libs/config';
import { hashApiKey } from '#libs/database';
import { note, print } from './report.js';
import { positive } from './workload.js';

/**
 * Loads the load tests' fixed API keys (test-load-1 .. test-load-N with tokens
 * test-load-token-1 .. N, as the k6 scripts send them) in one statement: the same rows as
 * `npm run apikey -- create --name test-load-N --token test-load-token-N`, without starting
 * the CLI a hundred times. Re-running it resets the keys (un-revokes, new rate limit).
 * Uses DATABASE_URL like the apps; run `npm run migrate` first.
 */
const { values } = parseArgs({
  options: {
    help: { type: 'boolean', short: 'h' },
    count: { type: 'string', default: '100' },
    // Per key, requests per minute. High by default so that benchmarks measure the server,
    // not the limiter (which still runs on every request); "default" leaves the server's default.
    'rate-limit': { type: 'string', default: '1000000' },
  },
});

if (values.help) {
  print('usage: npm run bench:keys -- [options]; the options are listed in loadtest/bench/README.md');
  process.exit(0);
}

const count = Math.round(positive('count', values.count));
const rateLimit =
  values['rate-limit'] === 'default' ? null : Math.round(positive('rate-limit', values['rate-limit']));
const config = loadConfig();

const names: string[] = [];
const hashes: string[] = [];
for (let i = 1; i <= count; i += 1) {
  names.push(`test-load-${i}`);
  hashes.push(hashApiKey(`test-load-token-${i}`));
}

const client = new pg.Client({ connectionString: config.DATABASE_URL });
await client.connect();
try {
  const { rowCount } = await client.query(
    `INSERT INTO api_keys (name, key_hash, rate_limit, tenant)
     SELECT name, key_hash, $3::int, 'default' FROM unnest($1::text[], $2::text[]) AS t (name, key_hash)
     ON CONFLICT (name) DO UPDATE SET key_hash = EXCLUDED.key_hash, rate_limit = EXCLUDED.rate_limit, revoked_at = NULL`,
    [names, hashes, rateLimit],
  );
  note(
    `${rowCount ?? 0} keys ready: test-load-token-1 .. test-load-token-${count}` +
      ` (rate limit ${rateLimit ?? 'server default'} per minute)`,
  );
} finally {
  await client.end();
}
