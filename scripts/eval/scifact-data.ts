import { randomBytes, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import type { TenantId } from '#libs/contracts';
import { ChunkIndexRepository } from '#libs/database';

/** BEIR relevance judgements: question id → (abstract id → graded relevance > 0). */
export type Qrels = Map<string, Map<string, number>>;

export async function readJsonLines<T>(file: string): Promise<T[]> {
  return (await readFile(file, 'utf8'))
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}

/** A BEIR qrels TSV (header line first); judgements of 0 are left out. */
export async function readQrels(file: string): Promise<Qrels> {
  const qrels: Qrels = new Map();
  for (const line of (await readFile(file, 'utf8')).split(/\r?\n/u).slice(1)) {
    const [queryId, corpusId, score] = line.split('\t');
    if (queryId === undefined || corpusId === undefined || Number(score) <= 0) continue;
    const judged = qrels.get(queryId) ?? new Map<string, number>();
    judged.set(corpusId, Number(score));
    qrels.set(queryId, judged);
  }
  return qrels;
}

export function ndcgAt(ranked: string[], judged: Map<string, number>, k: number): number {
  let dcg = 0;
  ranked.slice(0, k).forEach((id, i) => {
    dcg += (judged.get(id) ?? 0) / Math.log2(i + 2);
  });
  const ideal = [...judged.values()].sort((a, b) => b - a).slice(0, k);
  const idcg = ideal.reduce((sum, gain, i) => sum + gain / Math.log2(i + 2), 0);
  return idcg === 0 ? 0 : dcg / idcg;
}

const serverUrl = (): string =>
  process.env.EVAL_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

/** The database `database` on EVAL_DATABASE_URL's server (default: the local one). */
export function databaseUrlOnEvalServer(database: string): string {
  const url = new URL(serverUrl());
  url.pathname = `/${database}`;
  return url.toString();
}

/** A fresh database for one evaluation run on EVAL_DATABASE_URL's server. */
export function evalDatabaseUrl(name: string): string {
  return databaseUrlOnEvalServer(`rag_eval_${name}_${process.pid}_${randomBytes(3).toString('hex')}`);
}

export async function dropEvalDatabase(databaseUrl: string): Promise<void> {
  const admin = new pg.Client({ connectionString: serverUrl() });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${new URL(databaseUrl).pathname.slice(1)}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

export interface Abstract {
  id: string;
  title: string;
  text: string;
}

export interface Question {
  id: string;
  text: string;
}

export async function readAbstracts(dir: string): Promise<Abstract[]> {
  return (
    await readJsonLines<{ _id: string; title: string; text: string }>(path.join(dir, 'corpus.jsonl'))
  ).map((row) => ({ id: row._id, title: row.title, text: row.text }));
}

export async function readQuestions(dir: string): Promise<Question[]> {
  return (await readJsonLines<{ _id: string; text: string }>(path.join(dir, 'queries.jsonl'))).map((row) => ({
    id: row._id,
    text: row.text,
  }));
}

/**
 * The product's indexing of SciFact (title with the first chunk, one chunk per abstract) into
 * `tenant`, through the real index writer. Returns document id → abstract id.
 */
export async function loadAbstracts(
  dataSource: DataSource,
  abstracts: Abstract[],
  tenant: TenantId,
  collectionOf: (abstract: Abstract) => string,
): Promise<Map<string, string>> {
  await dataSource.query(`INSERT INTO tenants (name) VALUES ($1) ON CONFLICT DO NOTHING`, [tenant]);
  const rows = abstracts.map((abstract) => ({ id: randomUUID(), abstract }));
  await dataSource.query(
    `INSERT INTO documents (id, tenant, collection, title, status, size_bytes, mime_type, content_sha256)
     SELECT id, $2, collection, title, 'indexed', 1, 'text/plain', 'x'
     FROM jsonb_to_recordset($1::jsonb) AS r(id uuid, collection text, title text)`,
    [
      JSON.stringify(
        rows.map(({ id, abstract }) => ({ id, collection: collectionOf(abstract), title: abstract.title })),
      ),
      tenant,
    ],
  );
  const writer = new ChunkIndexRepository(dataSource);
  const abstractOf = new Map<string, string>();
  for (const { id, abstract } of rows) {
    abstractOf.set(id, abstract.id);
    await writer.replaceChunks(tenant, id, [
      { content: abstract.text, language: 'english', startOffset: 0, endOffset: abstract.text.length },
    ]);
  }
  return abstractOf;
}
