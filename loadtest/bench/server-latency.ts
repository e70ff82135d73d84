/**
 * The gateway's own view of its latency: `http_request_duration_seconds` from its /metrics,
 * summed over routes and 2xx statuses. Two scrapes give the histogram of the requests answered
 * in between, independent of how late a busy load generator reads the answers.
 */
export type Histogram = Map<number, number>;

const BUCKET = /^http_request_duration_seconds_bucket\{([^}]*)\} (\S+)$/;

export async function scrapeAcceptedHistogram(target: URL, token?: string): Promise<Histogram> {
  const response = await fetch(new URL('/metrics', target), {
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
  if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
  const histogram: Histogram = new Map();
  for (const line of (await response.text()).split('\n')) {
    const match = BUCKET.exec(line);
    if (match === null) continue;
    const labels = match[1] ?? '';
    if (!/status="2\d\d"/.test(labels)) continue;
    const le = /le="([^"]+)"/.exec(labels)?.[1];
    if (le === undefined) continue;
    const bound = le === '+Inf' ? Infinity : Number(le);
    histogram.set(bound, (histogram.get(bound) ?? 0) + Number(match[2]));
  }
  return histogram;
}

/** The fraction-quantile, in ms, of the requests counted between two scrapes (linear within a bucket). */
export function quantileBetween(before: Histogram, after: Histogram, fraction: number): number {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const cumulative = bounds.map((bound) => (after.get(bound) ?? 0) - (before.get(bound) ?? 0));
  const total = cumulative.at(-1) ?? 0;
  if (total <= 0) return 0;
  const rank = fraction * total;
  for (let i = 0; i < bounds.length; i++) {
    if ((cumulative[i] ?? 0) < rank) continue;
    const upper = bounds[i] ?? 0;
    const lower = i === 0 ? 0 : (bounds[i - 1] ?? 0);
    if (!Number.isFinite(upper)) return lower * 1000;
    const below = i === 0 ? 0 : (cumulative[i - 1] ?? 0);
    const inBucket = (cumulative[i] ?? 0) - below;
    return (lower + ((upper - lower) * (rank - below)) / Math.max(inBucket, 1)) * 1000;
  }
  return 0;
}

/** Count of the requests between two scrapes. */
export function countBetween(before: Histogram, after: Histogram): number {
  return (after.get(Infinity) ?? 0) - (before.get(Infinity) ?? 0);
}
