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
