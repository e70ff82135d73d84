import assert from 'node:assert/strict';
import type { FaultStack } from './fault-stack.js';
import { settledReport, waitUntilSettled, type SettledReport } from './fault-documents.js';
import type { OutageRun } from './outage-run.js';

/**
 * The upload promise of API.md under a fault: each upload was accepted (202) and ends indexed with
 * its chunks, or refused with 503 + Retry-After and nothing stored. Waits for the accepted ones.
 */
export async function assertUploadsKept(
  stack: FaultStack,
  run: OutageRun,
): Promise<SettledReport & { accepted: number; refused: number }> {
  const accepted = [...run.uploads].filter(([, o]) => o.status === 202).map(([title]) => title);
  const refused = [...run.uploads].filter(([, o]) => o.status !== 202);
  for (const [title, outcome] of refused) {
    assert.ok(
      outcome.status === 503 && outcome.retryAfter !== undefined,
      `upload ${title} answered ${outcome.status} ${outcome.error ?? JSON.stringify(outcome.body)}`,
    );
  }
  const rows = await waitUntilSettled(stack.config.DATABASE_URL, accepted);
  for (const [title] of refused)
    assert.equal(rows.get(title), undefined, `refused upload ${title} was stored`);
  const report = settledReport(accepted, rows);
  assert.deepEqual(report.problems, []);
  return { ...report, accepted: accepted.length, refused: refused.length };
}
