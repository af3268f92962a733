import type { ControlMessage } from '@mobius/interface';
import { estimateBytes } from '@mobius/runtime';
import type { ClusterJob } from './cluster-job.js';

/** How long a `collect` request for room waits before the coordinator answers `collect-full` anyway (the worker asks again). */
const ROOM_WAIT_MS = 1000;

/** The records of one collect sink of one job, from offset `base` on. */
class CollectLog {
  records: unknown[] = [];
  sizes: number[] = [];
  /** Offset of `records[0]` (records before it were read and dropped). */
  base = 0;
  bytes = 0;

  get end(): number {
    return this.base + this.records.length;
  }
}

/** What `GET /jobs/:id/results` answers. */
export interface CollectPage {
  readonly collectId: string;
  readonly records: readonly unknown[];
  /** The offset to ask for next (`from`). */
  readonly next: number;
}

/**
 * The coordinator's buffer of collect sink records, per job and sink, for the client that
 * submitted the job (`GET /jobs/:id/results?from=n`). A read from `n` drops the records before
 * `n` (the client has them), so a client that lost a reply asks again from where it was. Each job
 * holds at most `maxBytes` unread (plus one batch per sink task): a `collect` request that finds
 * it full is answered once a read made room, or after a second, with `collect-full`, and the
 * worker's sink waits (backpressure reaches the job, as in embedded mode).
 */
export class CollectStore {
  private readonly logs = new Map<string, Map<string, CollectLog>>();
  private readonly bytesOf = new Map<string, number>();
  private readonly waiting = new Map<string, (() => void)[]>();

  /** Takes a worker's batch; the reply says whether the job's buffer has room for more. */
  async accept(message: Extract<ControlMessage, { type: 'collect' }>, maxBytes: number): Promise<ControlMessage> {
    const log = this.log(message.jobId, message.collectId);
    let added = 0;
    for (const record of message.records) {
      const size = estimateBytes(record);
      log.records.push(record);
      log.sizes.push(size);
      log.bytes += size;
      added += size;
    }
    const bytes = (this.bytesOf.get(message.jobId) ?? 0) + added;
    this.bytesOf.set(message.jobId, bytes);
    if (bytes < maxBytes) return { type: 'ok' };
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ROOM_WAIT_MS);
      const list = this.waiting.get(message.jobId) ?? [];
      list.push(() => {
        clearTimeout(timer);
        resolve();
      });
      this.waiting.set(message.jobId, list);
    });
    return (this.bytesOf.get(message.jobId) ?? 0) < maxBytes ? { type: 'ok' } : { type: 'collect-full' };
  }

  /** Records of sink `collectId` of the job from offset `from`, at most `max`; those before `from` are dropped. */
  read(jobId: string, collectId: string, from: number, max: number): CollectPage {
    const log = this.log(jobId, collectId);
    const drop = Math.min(Math.max(0, from - log.base), log.records.length);
    if (drop > 0) {
      let freed = 0;
      for (let i = 0; i < drop; i++) freed += log.sizes[i];
      log.records = log.records.slice(drop);
      log.sizes = log.sizes.slice(drop);
      log.base += drop;
      log.bytes -= freed;
      this.bytesOf.set(jobId, (this.bytesOf.get(jobId) ?? 0) - freed);
      const waiting = this.waiting.get(jobId);
      this.waiting.delete(jobId);
      for (const w of waiting ?? []) w();
    }
    const start = Math.max(from, log.base) - log.base;
    return { collectId, records: log.records.slice(start, start + max), next: log.base + Math.min(log.records.length, start + max) };
  }

  /** The offset after the last record of sink `collectId` of the job. */
  end(jobId: string, collectId: string): number {
    return this.log(jobId, collectId).end;
  }

  /** Unread estimated bytes of the job. */
  bytes(jobId: string): number {
    return this.bytesOf.get(jobId) ?? 0;
  }

  private log(jobId: string, collectId: string): CollectLog {
    let logs = this.logs.get(jobId);
    if (logs === undefined) {
      logs = new Map();
      this.logs.set(jobId, logs);
    }
    let log = logs.get(collectId);
    if (log === undefined) {
      log = new CollectLog();
      logs.set(collectId, log);
    }
    return log;
  }
}

/** What `GET /jobs/:id/results?from=n[&collect=id]` answers. */
export interface CollectResultsReply extends CollectPage {
  readonly state: string;
  readonly error: string | null;
  /** True once the job ended and every record of the sink was handed out. */
  readonly done: boolean;
}

/** Records per reply of the results route. */
const PAGE_RECORDS = 10_000;

/**
 * A page of the job's collect sink `collectId` (default: its first), or undefined if the job
 * has no collect sink. The job's state is read before the records, so `done` never hides a
 * record that arrived in between.
 */
export function resultsPage(store: CollectStore, job: ClusterJob, collectId: string | undefined, from: number): CollectResultsReply | undefined {
  const sink = collectId ?? job.plan.operators.find((o) => o.kind === 'collect')?.id;
  if (sink === undefined || !job.plan.operators.some((o) => o.id === sink && o.kind === 'collect')) return undefined;
  const terminal = job.terminal;
  const { state, error } = job;
  const page = store.read(job.id, sink, from, PAGE_RECORDS);
  return { ...page, state, error: error ?? null, done: terminal && page.next >= store.end(job.id, sink) };
}
