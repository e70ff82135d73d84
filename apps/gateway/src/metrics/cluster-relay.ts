import { AggregatorRegistry, type Registry } from 'prom-client';

/**
 * /metrics across node:cluster. prom-client's own `clusterMetrics()` fails the whole scrape
 * after 5 s when any worker does not answer (prometheus/client_js#181) and needs an
 * AggregatorRegistry built in every worker (#747). Instead the worker that is scraped asks the
 * primary, and the primary gathers every live worker's series with a short per-worker timeout,
 * skipping the silent ones, adds its own (queue depths, job durations) and merges them.
 */
export type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

export const RelayMessageType = {
  /** worker → primary: render the whole cluster's metrics for me. */
  Request: 'rag:metrics:request',
  /** primary → worker: the rendered text, or why there is none. */
  Response: 'rag:metrics:response',
  /** primary → every worker: send me your own series. */
  Collect: 'rag:metrics:collect',
  /** worker → primary: my series. */
  Collected: 'rag:metrics:collected',
} as const;

export type RelayMessage =
  | { type: typeof RelayMessageType.Request; requestId: number }
  | { type: typeof RelayMessageType.Response; requestId: number; body?: string; error?: string }
  | { type: typeof RelayMessageType.Collect; collectId: number }
  | { type: typeof RelayMessageType.Collected; collectId: number; metrics: MetricsJson };

function isRelayMessage(message: unknown): message is RelayMessage {
  const type = (message as { type?: unknown } | null)?.type;
  return typeof type === 'string' && Object.values<string>(RelayMessageType).includes(type);
}

/** A live worker as the primary sees it (a `cluster.Worker`, or a stub in tests). */
export interface RelayPeer {
  readonly id: number;
  send(message: RelayMessage): void;
}

interface Collection {
  waitingFor: Set<number>;
  gathered: MetricsJson[];
  finish(): void;
}

export class MetricsRelayPrimary {
  private nextCollectId = 0;
  private readonly collections = new Map<number, Collection>();

  constructor(
    private readonly peers: () => RelayPeer[],
    private readonly own: Registry,
    private readonly perWorkerTimeoutMs = 1_000,
  ) {}

  /** Feed it every message a worker sends; others than the relay's are ignored. */
  handle(from: RelayPeer, message: unknown): void {
    if (!isRelayMessage(message)) return;
    if (message.type === RelayMessageType.Request) {
      void this.answer(from, message.requestId);
    } else if (message.type === RelayMessageType.Collected) {
      const collection = this.collections.get(message.collectId);
      if (collection?.waitingFor.delete(from.id) === true) {
        collection.gathered.push(message.metrics);
        if (collection.waitingFor.size === 0) collection.finish();
      }
    }
  }

  /** The merged Prometheus text of every worker that answered in time, plus the primary's own series. */
  async render(): Promise<string> {
    const [own, workers] = await Promise.all([this.own.getMetricsAsJSON(), this.gather()]);
    return AggregatorRegistry.aggregate([own, ...workers]).metrics();
  }

  private async answer(to: RelayPeer, requestId: number): Promise<void> {
    try {
      to.send({ type: RelayMessageType.Response, requestId, body: await this.render() });
    } catch (error) {
      to.send({ type: RelayMessageType.Response, requestId, error: (error as Error).message });
    }
  }

  private gather(): Promise<MetricsJson[]> {
    const collectId = this.nextCollectId++;
    return new Promise((resolve) => {
      const collection: Collection = {
        waitingFor: new Set(),
        gathered: [],
        finish: () => {
          clearTimeout(timer);
          this.collections.delete(collectId);
          resolve(collection.gathered);
        },
      };
      // A worker that is stuck or exiting must not hold up the scrape: its series are left out.
      const timer = setTimeout(() => collection.finish(), this.perWorkerTimeoutMs);
      this.collections.set(collectId, collection);
      for (const peer of this.peers()) {
        try {
          peer.send({ type: RelayMessageType.Collect, collectId });
          collection.waitingFor.add(peer.id);
        } catch {
          // The channel closed under us: the worker is on its way out.
        }
      }
      if (collection.waitingFor.size === 0) collection.finish();
    });
  }
}

/** The worker's end of the relay: answers the primary's collections and asks it for the merged text. */
export class MetricsRelayWorker {
  private nextRequestId = 0;
  private readonly pending = new Map<number, { resolve(body: string): void; reject(error: Error): void }>();

  constructor(
    private readonly send: (message: RelayMessage) => void,
    private readonly registry: Registry,
    private readonly requestTimeoutMs = 3_000,
  ) {}

  /** Feed it every message the primary sends; others than the relay's are ignored. */
  handle(message: unknown): void {
    if (!isRelayMessage(message)) return;
    if (message.type === RelayMessageType.Collect) {
      this.registry
        .getMetricsAsJSON()
        .then((metrics) =>
          this.send({ type: RelayMessageType.Collected, collectId: message.collectId, metrics }),
        )
        // The primary leaves this worker out after its timeout; nothing to do here.
        .catch(() => undefined);
    } else if (message.type === RelayMessageType.Response) {
      const waiter = this.pending.get(message.requestId);
      this.pending.delete(message.requestId);
      if (message.body !== undefined) waiter?.resolve(message.body);
      else waiter?.reject(new Error(message.error ?? 'the primary sent no metrics'));
    }
  }

  request(): Promise<string> {
    const requestId = this.nextRequestId++;
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(requestId);
        reject(new Error(`the cluster primary did not answer within ${this.requestTimeoutMs} ms`));
      }, this.requestTimeoutMs);
      this.pending.set(requestId, {
        resolve: (body) => {
          clearTimeout(timer);
          resolve(body);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      try {
        this.send({ type: RelayMessageType.Request, requestId });
      } catch (error) {
        this.pending.get(requestId)?.reject(error as Error);
        this.pending.delete(requestId);
      }
    });
  }

  /** Fails whatever still waits (the app is closing). */
  close(): void {
    for (const waiter of this.pending.values()) waiter.reject(new Error('closing'));
    this.pending.clear();
  }
}
