import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import pg from 'pg';

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

/** A fresh database for one evaluation run on EVAL_DATABASE_URL's server (default: the local one). */
export function evalDatabaseUrl(name: string): string {
  const url = new URL(serverUrl());
  url.pathname = `/rag_eval_${name}_${process.pid}_${randomBytes(3).toString('hex')}`;
  return url.toString();
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
