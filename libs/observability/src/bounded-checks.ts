/** What one health check found; `ok` decides, the rest informs (`latency_ms`, `error`, details). */
export interface CheckResult {
  ok: boolean;
  error?: string;
  [detail: string]: unknown;
}

export const NOT_CHECKED: CheckResult = { ok: false, error: 'not checked yet' };

/**
 * Runs named dependency checks, each bounded by a timeout. A check that outlives its timeout is
 * awaited again by the next round instead of being started twice, so a hung dependency cannot
 * eat a connection pool one connection per round.
 */
export class BoundedChecks {
  private readonly inFlight = new Map<string, Promise<Record<string, unknown>>>();

  constructor(private readonly timeoutMs: number) {}

  async run(name: string, check: () => Promise<Record<string, unknown>>): Promise<CheckResult> {
    const startedAt = performance.now();
    let operation = this.inFlight.get(name);
    if (operation === undefined) {
      operation = check().finally(() => this.inFlight.delete(name));
      this.inFlight.set(name, operation);
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${this.timeoutMs} ms`)), this.timeoutMs);
    });
    try {
      const details = await Promise.race([operation, timeout]);
      return { ok: true, latency_ms: Math.round((performance.now() - startedAt) * 100) / 100, ...details };
    } catch (error) {
      return { ok: false, error: (error as Error).message };
    } finally {
      clearTimeout(timer);
    }
  }
}
