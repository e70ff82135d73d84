export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export interface TallySummary {
  /** Answered requests plus failed ones. */
  requests: number;
  latency: LatencySummary;
  /** Requests with no HTTP answer: refused, reset, timed out. */
  errors: number;
  /** Answers outside 2xx, by status. */
  non2xx: Record<string, number>;
  non2xxTotal: number;
}

/** Nearest-rank percentile of an ascending array; 0 when empty. */
export function percentile(sorted: Float64Array, fraction: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[rank] ?? 0;
}

export function summarizeLatencies(latenciesMs: readonly number[]): LatencySummary {
  const sorted = Float64Array.from(latenciesMs).sort();
  return {
    count: sorted.length,
    p50: percentile(sorted, 0.5),
    p95: percentile(sorted, 0.95),
    p99: percentile(sorted, 0.99),
    max: sorted.length > 0 ? (sorted[sorted.length - 1] ?? 0) : 0,
  };
}

/** Every response time and outcome of one kind of request. A few hundred thousand samples fit easily. */
export class Tally {
  private readonly latenciesMs: number[] = [];
  private readonly statuses = new Map<number, number>();
  private requestCount = 0;
  private errorCount = 0;

  record(status: number, latencyMs: number): void {
    this.latenciesMs.push(latencyMs);
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
    this.requestCount += 1;
  }

  /** A request with no HTTP answer; its time counts in the latencies when known. */
  recordError(latencyMs?: number): void {
    if (latencyMs !== undefined) this.latenciesMs.push(latencyMs);
    this.requestCount += 1;
    this.errorCount += 1;
  }

  merge(other: Tally): void {
    for (const latency of other.latenciesMs) this.latenciesMs.push(latency);
    for (const [status, count] of other.statuses)
      this.statuses.set(status, (this.statuses.get(status) ?? 0) + count);
    this.requestCount += other.requestCount;
    this.errorCount += other.errorCount;
  }

  summary(): TallySummary {
    const non2xx: Record<string, number> = {};
    let non2xxTotal = 0;
    for (const [status, count] of [...this.statuses].sort(([a], [b]) => a - b)) {
      if (status >= 200 && status < 300) continue;
      non2xx[String(status)] = count;
      non2xxTotal += count;
    }
    return {
      requests: this.requestCount,
      latency: summarizeLatencies(this.latenciesMs),
      errors: this.errorCount,
      non2xx,
      non2xxTotal,
    };
  }
}
