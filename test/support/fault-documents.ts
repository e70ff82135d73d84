import pg from 'pg';
import { ENGLISH_PARAGRAPHS } from './fixtures.js';
import { waitFor } from './test-environment.js';

/** A small English document whose title and one word are its own, so a test can find it by either. */
export function faultDocument(tag: string): { title: string; content: string } {
  return {
    title: `fault ${tag}`,
    content: [...ENGLISH_PARAGRAPHS, `This document is called ${tag}.`].join('\n\n'),
  };
}

export interface DocumentRow {
  id: string;
  title: string;
  status: string;
  chunk_count: number;
  chunks: number;
  attempts: number;
  error: string | null;
}

/** Each document's row with its real number of chunks, by title (titles are unique per test). */
export async function documentsByTitle(databaseUrl: string): Promise<Map<string, DocumentRow>> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<DocumentRow>(
      `SELECT d.id, d.title, d.status, d.chunk_count, d.attempts, d.error,
              (SELECT count(*)::int FROM chunks c WHERE c.document_id = d.id) AS chunks
       FROM documents d`,
    );
    return new Map(rows.map((row) => [row.title, row]));
  } finally {
    await client.end();
  }
}

/**
 * Waits until every listed title is settled (`indexed` or `failed`), and returns the rows; the
 * timeout is generous because a document whose job Redis lost waits for the reconciler.
 */
export async function waitUntilSettled(
  databaseUrl: string,
  titles: readonly string[],
  timeoutMs = 120_000,
): Promise<Map<string, DocumentRow>> {
  let last = new Map<string, DocumentRow>();
  try {
    await waitFor(
      async () => {
        last = await documentsByTitle(databaseUrl).catch(() => last);
        return titles.every((title) => ['indexed', 'failed'].includes(last.get(title)?.status ?? ''))
          ? true
          : undefined;
      },
      { timeoutMs, intervalMs: 500, what: `${titles.length} documents to settle` },
    );
  } catch (error) {
    const pending = titles.filter((title) => !['indexed', 'failed'].includes(last.get(title)?.status ?? ''));
    throw new Error(
      `${(error as Error).message}; not settled: ${pending
        .slice(0, 10)
        .map((title) => `${title} (${last.get(title)?.status ?? 'missing'})`)
        .join(', ')}`,
      { cause: error },
    );
  }
  return last;
}

export interface SettledReport {
  indexed: number;
  failed: number;
  lost: number;
  /** Every accepted document not indexed with exactly the chunks its row counts. */
  problems: string[];
}

/** Every accepted title must be indexed, with chunks, as many as its row says. */
export function settledReport(titles: readonly string[], rows: Map<string, DocumentRow>): SettledReport {
  const report: SettledReport = { indexed: 0, failed: 0, lost: 0, problems: [] };
  for (const title of titles) {
    const row = rows.get(title);
    if (row === undefined) {
      report.lost++;
      report.problems.push(`${title}: lost`);
    } else if (row.status === 'indexed') {
      report.indexed++;
      if (row.chunks === 0 || row.chunks !== row.chunk_count) {
        report.problems.push(`${title}: ${row.chunks} chunks, row says ${row.chunk_count}`);
      }
    } else {
      report.failed++;
      report.problems.push(`${title}: ${row.status} (${row.error})`);
    }
  }
  return report;
}

/**
 * A document of `paragraphs` paragraphs, each naming the document's tag: at a small CHUNK_SIZE it
 * takes a while to index, and every chunk of it can be told from any other document's.
 */
export function taggedDocument(tag: string, paragraphs = 40): { title: string; content: string } {
  const body = Array.from(
    { length: paragraphs },
    (_, i) => `Part ${i + 1} of ${tag}. ${ENGLISH_PARAGRAPHS[i % ENGLISH_PARAGRAPHS.length]}`,
  );
  return { title: `fault ${tag}`, content: body.join('\n\n') };
}

/**
 * Each document's chunks that are not exactly its own: ordinals must run 0..n-1 once each, their
 * number match the row's chunk_count, and every chunk's text come from the document's own content
 * (chunks of another tagged document name another tag). Returns the problems found.
 */
export async function chunkProblems(
  databaseUrl: string,
  contents: ReadonlyMap<string, string>,
): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{
      title: string;
      chunk_count: number;
      ordinals: number[];
      texts: string[];
    }>(
      `SELECT d.title, d.chunk_count,
              coalesce(array_agg(c.ordinal ORDER BY c.ordinal) FILTER (WHERE c.id IS NOT NULL), '{}') AS ordinals,
              coalesce(array_agg(c.content ORDER BY c.ordinal) FILTER (WHERE c.id IS NOT NULL), '{}') AS texts
       FROM documents d LEFT JOIN chunks c ON c.document_id = d.id
       WHERE d.title = ANY($1) GROUP BY d.id`,
      [[...contents.keys()]],
    );
    const problems: string[] = [];
    for (const row of rows) {
      const content = contents.get(row.title) ?? '';
      if (row.ordinals.length === 0) problems.push(`${row.title}: no chunks`);
      if (row.ordinals.length !== row.chunk_count) {
        problems.push(`${row.title}: ${row.ordinals.length} chunks, row says ${row.chunk_count}`);
      }
      if (row.ordinals.some((ordinal, index) => ordinal !== index)) {
        problems.push(`${row.title}: ordinals ${row.ordinals.join(',')}`);
      }
      const foreign = row.texts.filter((text) => !content.includes(text)).length;
      if (foreign > 0) problems.push(`${row.title}: ${foreign} chunks not from its own text`);
    }
    if (rows.length !== contents.size) problems.push(`${contents.size - rows.length} documents missing`);
    return problems;
  } finally {
    await client.end();
  }
}
