import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { RuntimeContext, TwoPhaseCommitSinkFunction } from '@mobius/interface';

export interface FileSinkOptions {
  /** Folder of the part files (created if missing). */
  readonly dir: string;
  /** Start of every file name. Default `part`. */
  readonly prefix?: string;
  /** Lines buffered in memory before a write to the in-progress file. Default 1024. */
  readonly bufferLines?: number;
}

/** A part file pre-committed for a checkpoint, not yet visible. */
interface PendingPart {
  readonly checkpointId: number;
  readonly pending: string;
  readonly final: string;
}

/**
 * An exactly-once file sink (two-phase commit). Each record becomes one JSON line. Lines go to
 * a hidden in-progress file (`.part-…inprogress`); at a checkpoint barrier it is closed, synced
 * and renamed to a hidden pending file (pre-commit); when the checkpoint completes the pending
 * file is renamed to its final name `part-<task>-<checkpoint>.jsonl` (commit). A restore commits
 * the files of the restored checkpoint and deletes this task's other hidden files (records
 * after the checkpoint, which the restarted job writes again). At the end of a bounded input
 * the rest is committed as `part-<task>-end.jsonl`. Files starting with `.` are never final.
 */
export class FileSink<T = unknown> implements TwoPhaseCommitSinkFunction<T> {
  private readonly dir: string;
  private readonly prefix: string;
  private readonly bufferLines: number;
  private taskIndex = 0;
  private attempt = 0;
  private lines: string[] = [];
  private fd: number | undefined;
  private inProgress = '';
  private parts = 0;
  private pending: PendingPart[] = [];

  constructor(options: FileSinkOptions) {
    this.dir = options.dir;
    this.prefix = options.prefix ?? 'part';
    this.bufferLines = options.bufferLines ?? 1024;
  }

  open(ctx: RuntimeContext): void {
    this.taskIndex = ctx.taskIndex;
    this.attempt = ctx.attempt;
    this.lines = [];
    this.pending = [];
    this.fd = undefined;
    mkdirSync(this.dir, { recursive: true });
  }

  sink(record: T): void {
    this.lines.push(JSON.stringify(record));
    if (this.lines.length >= this.bufferLines) this.writeLines();
  }

  private writeLines(): void {
    if (this.lines.length === 0) return;
    if (this.fd === undefined) {
      this.inProgress = join(this.dir, `.${this.prefix}-${this.taskIndex}-${this.attempt}-${++this.parts}.inprogress`);
      this.fd = openSync(this.inProgress, 'w');
    }
    writeSync(this.fd, `${this.lines.join('\n')}\n`);
    this.lines = [];
  }

  /** Closes the in-progress file durably and returns its path, or undefined if nothing was written. */
  private closePart(): string | undefined {
    this.writeLines();
    if (this.fd === undefined) return undefined;
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = undefined;
    return this.inProgress;
  }

  /** Pre-commit: the checkpoint's records become a hidden pending file. */
  snapshotState(checkpointId: number): { checkpointId: number; pending: PendingPart[] } {
    const part = this.closePart();
    if (part !== undefined) {
      const pending = join(this.dir, `.${this.prefix}-${this.taskIndex}-${checkpointId}.pending`);
      renameSync(part, pending);
      this.pending.push({ checkpointId, pending, final: join(this.dir, `${this.prefix}-${this.taskIndex}-${checkpointId}.jsonl`) });
    }
    return { checkpointId, pending: [...this.pending] };
  }

  /** Commit: pending files of checkpoints up to this one get their final names. */
  notifyCheckpointComplete(checkpointId: number): void {
    const keep: PendingPart[] = [];
    for (const p of this.pending) {
      if (p.checkpointId <= checkpointId) commit(p);
      else keep.push(p);
    }
    this.pending = keep;
  }

  /**
   * Restore: commit the restored checkpoint's files, drop everything else this task left. When
   * the restore falls back past a later checkpoint that completed (its files were committed)
   * but turned out corrupt, those files are deleted too: the restarted job writes their records
   * again. Checkpoint ids are never reused, so a later id always means a later checkpoint.
   */
  restoreState(state: unknown): void {
    const restored = state as { checkpointId?: number; pending?: PendingPart[] } | undefined;
    for (const p of restored?.pending ?? []) commit(p);
    const hidden = `.${this.prefix}-${this.taskIndex}-`;
    const final = `${this.prefix}-${this.taskIndex}-`;
    for (const name of readdirSync(this.dir)) {
      if (name.startsWith(hidden) && (name.endsWith('.pending') || name.endsWith('.inprogress'))) unlinkSync(join(this.dir, name));
      else if (restored?.checkpointId !== undefined && name.startsWith(final) && name.endsWith('.jsonl')) {
        const id = Number(name.slice(final.length, -'.jsonl'.length));
        if (Number.isInteger(id) && id > restored.checkpointId) unlinkSync(join(this.dir, name));
      }
    }
  }

  /** End of input: everything written becomes visible. */
  finish(): void {
    this.notifyCheckpointComplete(Number.MAX_SAFE_INTEGER);
    const part = this.closePart();
    if (part !== undefined) renameSync(part, join(this.dir, `${this.prefix}-${this.taskIndex}-end.jsonl`));
  }

  /**
   * Cancel or failure: the open in-progress file is aborted (deleted). Its records came after
   * the last barrier, so no checkpoint covers them and any new attempt writes them again; left
   * behind, it would outlive a job that ends here (e.g. a deployment that failed). Pending files
   * stay: they belong to checkpoints and a restore commits them.
   */
  close(): void {
    if (this.fd !== undefined) {
      closeSync(this.fd);
      rmSync(this.inProgress, { force: true });
    }
    this.fd = undefined;
    this.lines = [];
  }
}

function commit(part: PendingPart): void {
  // Idempotent: a part already renamed (committed before a failure) is left as it is.
  if (existsSync(part.pending)) renameSync(part.pending, part.final);
}
