import { InitialSchema1764201600000 } from './1764201600000-initial-schema.js';
import { CorpusStats1764288000000 } from './1764288000000-corpus-stats.js';
import { Tenants1764400000000 } from './1764400000000-tenants.js';
import { QueuedPerTenant1764500000000 } from './1764500000000-queued-per-tenant.js';
import { PrunedRanking1764600000000 } from './1764600000000-pruned-ranking.js';
import { DurablePublication1764700000000 } from './1764700000000-durable-publication.js';
import { PostingsDeletedByStatement1764800000000 } from './1764800000000-postings-deleted-by-statement.js';

/** Explicit, ordered list: migration globs break in a relocated build. */
export const MIGRATIONS = [
  InitialSchema1764201600000,
  CorpusStats1764288000000,
  Tenants1764400000000,
  QueuedPerTenant1764500000000,
  PrunedRanking1764600000000,
  DurablePublication1764700000000,
  PostingsDeletedByStatement1764800000000,
];
