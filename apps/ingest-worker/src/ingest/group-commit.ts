/** One item's outcome in a flushed group: its own value or its own error. */
export type Outcome<R> = { ok: true; value: R } | { ok: false; error: unknown };

/** Runs a group of items at once; answers one outcome per item, in the items' order. */
export type GroupRunner<I, R> = (items: I[]) => Promise<Outcome<R>[]>;

interface Entry<I, R> {
  item: I;
  resolve: (value: R) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: callers submit one item each; whatever arrived while the previous group was
 * running goes out as the next group (at most `maxGroup` items), so a lone item waits for no timer
 * and a burst shares one round trip. At most `maxRunning` groups run at once (one by default),
 * which is what lets the next one fill. Each caller gets its own item's outcome; a runner that
 * throws fails every item of its group.
 */
export class GroupCommit<I, R> {
  private readonly pending: Entry<I, R>[] = [];
  private running = 0;

  constructor(
    private readonly run: GroupRunner<I, R>,
    private readonly maxGroup: number,
    private readonly maxRunning = 1,
  ) {}

  submit(item: I): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (this.running < this.maxRunning) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running++;
    // Items submitted in the same tick as the first join its group.
    await Promise.resolve();
    while (this.pending.length > 0) {
      const group = this.pending.splice(0, this.maxGroup);
      try {
        const outcomes = await this.run(group.map((entry) => entry.item));
        group.forEach((entry, i) => {
          const outcome = outcomes[i];
          if (outcome === undefined) entry.reject(new Error('group runner gave no outcome for an item'));
          else if (outcome.ok) entry.resolve(outcome.value);
          else entry.reject(outcome.error);
        });
      } catch (error) {
        for (const entry of group) entry.reject(error);
      }
    }
    this.running--;
  }
}

/**
 * A runner that tries the whole group at once and, if that fails, each item on its own, so one
 * item that breaks the group's statement (or transaction) fails alone. `runMany` must be all or
 * nothing for the fallback to be safe.
 */
export function withFallback<I, R>(
  runMany: (items: I[]) => Promise<R[]>,
  runOne: (item: I) => Promise<R>,
): GroupRunner<I, R> {
  return async (items) => {
    try {
      return (await runMany(items)).map((value) => ({ ok: true, value }));
    } catch (error) {
      if (items.length === 1) return [{ ok: false, error }];
      return Promise.all(
        items.map((item) =>
          runOne(item).then(
            (value): Outcome<R> => ({ ok: true, value }),
            (itemError: unknown): Outcome<R> => ({ ok: false, error: itemError }),
          ),
        ),
      );
    }
  };
}
