import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import { isDatabaseUnavailable, type ReadReplica } from '#libs/database';
import type { Answer, AnswerService, RetrievalRequest } from '#libs/retrieval';

/** Where an answer was read: `primary` or the replica's name. */
export interface RoutedAnswer extends Answer {
  readFrom: string;
}

export interface ReplicaSource {
  replica: ReadReplica;
  /** An AnswerService over the replica's own SearchRepository (and corpus statistics). */
  answers: AnswerService;
}

export interface ReadRoutingSettings {
  /** How long a job may wait for a lagging replica before it reads the primary (DATABASE_REPLICA_MAX_WAIT_MS). */
  maxWaitMs: number;
  /** The WAL position recorded with the corpus versions (CorpusVersion.recordedWalLsn). */
  recordedWalLsn: () => Promise<number | null>;
}

/** How often a lagging replica's position is re-read while jobs wait on it. */
const POLL_MS = 10;
/** A replica that failed (refused, reset, shutting down) is left alone this long, then tried again. */
const DOWN_RETRY_MS = 2_000;
/**
 * A replica that made a job wait the whole DATABASE_REPLICA_MAX_WAIT_MS (replay paused, a long
 * conflict) makes no job wait again for this long: jobs read it only when it is already caught up.
 */
const STALLED_MS = 1_000;

class ReplicaState {
  /** The replayed WAL position last seen: it only grows, so a job needing less reads here at once. */
  replayed = 0;
  downUntil = 0;
  stalledUntil = 0;
  private reading: Promise<number> | undefined;

  constructor(readonly source: ReplicaSource) {}

  get name(): string {
    return this.source.replica.name;
  }

  /** One position query at a time per replica, shared by every job waiting on it. */
  refresh(): Promise<number> {
    this.reading ??= this.source.replica
      .replayedLsn()
      .then((lsn) => {
        this.replayed = Math.max(this.replayed, lsn);
        return this.replayed;
      })
      .finally(() => {
        this.reading = undefined;
      });
    return this.reading;
  }
}

/**
 * Sends each question to a read replica that has replayed the WAL of the corpus version the
 * gateway keyed its cache with, spreading them round-robin; waits up to maxWaitMs for a lagging
 * replica (one shared position poll per replica), then reads the primary. A replica that is down
 * is skipped. An answer is thus never computed from a corpus older than its cache key (ADR 0014).
 */
export class ReadRouting implements OnApplicationShutdown {
  private readonly logger = new Logger(ReadRouting.name);
  private readonly replicas: ReplicaState[];
  private next = 0;

  constructor(
    private readonly primary: AnswerService,
    replicas: ReplicaSource[],
    private readonly settings: ReadRoutingSettings,
  ) {
    this.replicas = replicas.map((source) => new ReplicaState(source));
  }

  async answer(request: RetrievalRequest): Promise<RoutedAnswer> {
    // Without a recorded position nothing says which replica is current enough: read the primary.
    // Read now, after the gateway saw the job's version; writers record the position before they
    // publish a version, so it covers every change of that version (and perhaps later ones).
    // One Redis read per miss; nothing is remembered per version, which per-tenant versions could confuse.
    const required = this.replicas.length === 0 ? null : await this.settings.recordedWalLsn();
    if (required !== null) {
      const tried = new Set<ReplicaState>();
      for (
        let replica = await this.choose(required, tried);
        replica !== undefined;
        replica = await this.choose(required, tried)
      ) {
        tried.add(replica);
        try {
          return { ...(await replica.source.answers.answer(request)), readFrom: replica.name };
        } catch (error) {
          // Reads are safe to repeat: try the next replica, then the primary.
          if (isDatabaseUnavailable(error)) this.markDown(replica, error as Error);
          else this.logger.warn(`search on replica ${replica.name} failed: ${(error as Error).message}`);
        }
      }
    }
    return { ...(await this.primary.answer(request)), readFrom: 'primary' };
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.replicas.map((state) => state.source.replica.close()));
  }

  /** A live replica that has replayed `required`, waiting for one if allowed; undefined: read the primary. */
  private async choose(required: number, tried: Set<ReplicaState>): Promise<ReplicaState | undefined> {
    const deadline = performance.now() + this.settings.maxWaitMs;
    const start = this.next++ % this.replicas.length;
    const order = [...this.replicas.slice(start), ...this.replicas.slice(0, start)];
    for (let polled = false; ; polled = true) {
      const now = Date.now();
      const live = order.filter((state) => !tried.has(state) && state.downUntil <= now);
      const ready = live.find((state) => state.replayed >= required);
      if (ready !== undefined || live.length === 0) return ready;

      const mayWait = live.some((state) => state.stalledUntil <= now);
      if (polled && (!mayWait || performance.now() >= deadline)) {
        if (mayWait) {
          for (const state of live) state.stalledUntil = now + STALLED_MS;
          this.logger.warn(
            `no replica replayed WAL ${required} within ${this.settings.maxWaitMs} ms; reading the primary`,
          );
        }
        return undefined;
      }
      if (polled) await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      await Promise.all(
        live.map((state) => state.refresh().catch((error: Error) => this.markDown(state, error))),
      );
    }
  }

  private markDown(state: ReplicaState, error: Error): void {
    if (state.downUntil <= Date.now()) {
      this.logger.warn(`replica ${state.name} failed (${error.message}); skipped for ${DOWN_RETRY_MS} ms`);
    }
    state.downUntil = Date.now() + DOWN_RETRY_MS;
  }
}
