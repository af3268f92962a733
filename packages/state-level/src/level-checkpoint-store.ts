import { resolve } from 'node:path';
import { CheckpointError, silentLogger, type CheckpointMetadata, type CheckpointStore, type Logger, completedCheckpoints, latestValidCheckpoint, type ScannedCheckpoint } from '@mobius/interface';
import { FileHeader, canonicalJson, sha256Hex as sha256 } from '@mobius/plugin-kit';
import { Level } from 'level';

/** Options of {@link LevelCheckpointStore}. */
export interface LevelCheckpointStoreOptions {
  /** The folder of the LevelDB that holds every job's checkpoints (created when missing). */
  readonly directory: string;
  readonly logger?: Logger;
}

/** The header of every stored task state (the same as the fs store's task files). */
const TASK_STATE = new FileHeader({ magic: 'MOBC', version: 1, name: 'Mobius checkpoint state' });
/** Version of the metadata format. */
const METADATA_VERSION = 1;
/** Checkpoint ids are zero-padded to this many digits in keys, so key order is numeric order. */
const ID_DIGITS = 12;
/** The largest checkpoint id a key can hold. */
const MAX_CHECKPOINT_ID = 10 ** ID_DIGITS - 1;
const HANDLE_PREFIX = 'level:';
const CHECKPOINT_ID = /^(0|[1-9][0-9]*)$/;
/** A lone (unpaired) UTF-16 surrogate: such an id has no UTF-8 encoding, so it cannot be a key. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function describeError(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * The job id as it appears in keys: `\x01` becomes `\x01\x01` and `\0` becomes `\x01\x02`, so
 * the escaped id never holds the `\0` separator and one job's keys never fall in another's range.
 * Ids without those two characters (all ordinary ones) are kept as they are.
 */
function escapeJobId(jobId: string): string {
  return jobId.replace(/[\x00\x01]/g, (c) => (c === '\x01' ? '\x01\x01' : '\x01\x02'));
}

function padId(checkpointId: number): string {
  return String(checkpointId).padStart(ID_DIGITS, '0');
}

/** `<jobId>\0chk\0`: every key of a job starts with it. */
function jobPrefix(jobId: string): string {
  return `${escapeJobId(jobId)}\0chk\0`;
}

/** `<jobId>\0chk\0<id>\0`: every key of one checkpoint starts with it. */
function checkpointPrefix(jobId: string, checkpointId: number): string {
  return `${jobPrefix(jobId)}${padId(checkpointId)}\0`;
}

function taskKey(jobId: string, checkpointId: number, taskId: string): string {
  return `${checkpointPrefix(jobId, checkpointId)}task\0${taskId}`;
}

function metadataKey(jobId: string, checkpointId: number): string {
  return `${checkpointPrefix(jobId, checkpointId)}meta`;
}

function assertCheckpointId(checkpointId: number): void {
  if (!Number.isSafeInteger(checkpointId) || checkpointId < 0 || checkpointId > MAX_CHECKPOINT_ID) {
    throw new CheckpointError('CHECKPOINT_FAILED', `checkpoint id must be an integer from 0 to ${MAX_CHECKPOINT_ID}, got ${String(checkpointId)}`);
  }
}

function assertId(what: string, id: string): void {
  if (typeof id !== 'string' || LONE_SURROGATE.test(id)) {
    throw new CheckpointError('CHECKPOINT_FAILED', `${what} ${JSON.stringify(id)} is not a string of valid UTF-16 (it has a lone surrogate)`);
  }
}

function isMetadata(value: unknown): value is CheckpointMetadata & { version: number; sha256: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  if (typeof v.jobId !== 'string' || typeof v.timestamp !== 'number' || typeof v.savepoint !== 'boolean') return false;
  if (typeof v.checkpointId !== 'number' || !Number.isSafeInteger(v.checkpointId) || v.checkpointId < 0) return false;
  if (typeof v.tasks !== 'object' || v.tasks === null || Array.isArray(v.tasks)) return false;
  return Object.values(v.tasks as Record<string, unknown>).every((h) => typeof h === 'string');
}

/** The parts of a handle. */
interface ParsedHandle {
  readonly jobId: string;
  readonly checkpointId: number;
  readonly taskId: string;
}

/**
 * A {@link CheckpointStore} on one LevelDB (kind `level`). Keys (UTF-8):
 *
 * ```
 * <jobId>\0chk\0<id, 12 digits>\0task\0<taskId>   header (MOBC, version, length, sha256) + payload
 * <jobId>\0chk\0<id, 12 digits>\0meta             the CheckpointMetadata as JSON + sha256 of its canonical JSON
 * ```
 *
 * A handle is `level:<jobId>/<id>/<taskId>` with each part URL-encoded (`encodeURIComponent`).
 * A task state is written with one put (atomic in LevelDB); `complete` writes the metadata with
 * `{ sync: true }`, so a completed checkpoint survives a crash. Corrupt state is detected as in
 * the fs store: `readTaskState` throws `CHECKPOINT_CORRUPT` naming the handle, and
 * {@link latestValid} falls back to the newest checkpoint that verifies, with a warning.
 *
 * LevelDB allows one process per database: the store holds the database's lock until `close()`.
 */
export class LevelCheckpointStore implements CheckpointStore {
  readonly kind = 'level';
  readonly directory: string;
  private readonly db: Level<string, Buffer>;
  private readonly logger: Logger;
  private closed = false;

  constructor(options: LevelCheckpointStoreOptions) {
    if (typeof options?.directory !== 'string' || options.directory === '') {
      throw new CheckpointError('CHECKPOINT_FAILED', 'LevelCheckpointStore needs a directory');
    }
    this.directory = resolve(options.directory);
    this.logger = (options.logger ?? silentLogger).child({ component: 'level-checkpoint-store' });
    // Opens in the background; operations issued before it is open wait for it (an open
    // failure, such as the lock being held by another process, rejects them).
    this.db = new Level<string, Buffer>(this.directory, { keyEncoding: 'utf8', valueEncoding: 'buffer' });
  }

  /** The handle of one task's state: `level:<jobId>/<id>/<taskId>`, parts URL-encoded. */
  handleOf(jobId: string, checkpointId: number, taskId: string): string {
    assertId('job id', jobId);
    assertId('task id', taskId);
    assertCheckpointId(checkpointId);
    return `${HANDLE_PREFIX}${encodeURIComponent(jobId)}/${checkpointId}/${encodeURIComponent(taskId)}`;
  }

  /** The parts a handle names. Throws CHECKPOINT_FAILED for a handle that is not one of this store's. */
  parseHandle(handle: string): ParsedHandle {
    const refuse = (): never => {
      throw new CheckpointError('CHECKPOINT_FAILED', `"${String(handle)}" is not a handle of the level checkpoint store`);
    };
    if (typeof handle !== 'string' || !handle.startsWith(HANDLE_PREFIX)) return refuse();
    const parts = handle.slice(HANDLE_PREFIX.length).split('/');
    if (parts.length !== 3 || !CHECKPOINT_ID.test(parts[1]!)) return refuse();
    const checkpointId = Number(parts[1]);
    if (checkpointId > MAX_CHECKPOINT_ID) return refuse();
    let jobId: string;
    let taskId: string;
    try {
      jobId = decodeURIComponent(parts[0]!);
      taskId = decodeURIComponent(parts[2]!);
    } catch {
      return refuse();
    }
    // Only the canonical spelling is accepted, so one entry has exactly one handle.
    if (`${HANDLE_PREFIX}${encodeURIComponent(jobId)}/${checkpointId}/${encodeURIComponent(taskId)}` !== handle) return refuse();
    return { jobId, checkpointId, taskId };
  }

  async writeTaskState(jobId: string, checkpointId: number, taskId: string, data: Uint8Array): Promise<string> {
    this.assertOpen();
    const handle = this.handleOf(jobId, checkpointId, taskId);
    // wrap copies the payload: the caller may reuse its buffer as soon as this returns.
    const value = TASK_STATE.wrap(data);
    try {
      await this.db.put(taskKey(jobId, checkpointId, taskId), value);
    } catch (e) {
      throw new CheckpointError('CHECKPOINT_FAILED', `cannot write the state of task "${taskId}" for checkpoint ${checkpointId} of job "${jobId}" (${handle}) to ${this.directory}: ${describeError(e)}`, { cause: e });
    }
    return handle;
  }

  async readTaskState(handle: string): Promise<Uint8Array> {
    this.assertOpen();
    const value = await this.getRaw(handle);
    if (value === undefined) throw new CheckpointError('CHECKPOINT_CORRUPT', `checkpoint state ${handle} is missing`);
    const problem = TASK_STATE.verify(value);
    if (problem !== undefined) throw new CheckpointError('CHECKPOINT_CORRUPT', `checkpoint state ${handle} is corrupt: ${problem}`);
    // A fresh buffer per get: the caller owns this view.
    return TASK_STATE.payloadOf(value);
  }

  /** Checks one task's stored state. Resolves with the reason it is not valid, or undefined when it is. */
  async verifyTaskState(handle: string): Promise<string | undefined> {
    this.assertOpen();
    let value: Buffer | undefined;
    try {
      value = await this.getRaw(handle);
    } catch (e) {
      return describeError(e);
    }
    if (value === undefined) return `${handle} is missing`;
    const problem = TASK_STATE.verify(value);
    return problem === undefined ? undefined : `${handle}: ${problem}`;
  }

  async complete(metadata: CheckpointMetadata): Promise<void> {
    this.assertOpen();
    assertId('job id', metadata.jobId);
    assertCheckpointId(metadata.checkpointId);
    const content = {
      version: METADATA_VERSION,
      jobId: metadata.jobId,
      checkpointId: metadata.checkpointId,
      timestamp: metadata.timestamp,
      savepoint: metadata.savepoint,
      tasks: { ...metadata.tasks },
    };
    const json = JSON.stringify({ ...content, sha256: sha256(canonicalJson(content)) });
    try {
      // A sync write fsyncs LevelDB's log, which also holds the task states put before it.
      await this.db.put(metadataKey(metadata.jobId, metadata.checkpointId), Buffer.from(json, 'utf8'), { sync: true });
    } catch (e) {
      throw new CheckpointError('CHECKPOINT_FAILED', `cannot record checkpoint ${metadata.checkpointId} of job "${metadata.jobId}" as complete in ${this.directory}: ${describeError(e)}`, { cause: e });
    }
  }

  async list(jobId: string): Promise<readonly CheckpointMetadata[]> {
    this.assertOpen();
    return completedCheckpoints(jobId, await this.scan(jobId), this.logger);
  }

  async discard(jobId: string, checkpointId: number): Promise<void> {
    this.assertOpen();
    assertCheckpointId(checkpointId);
    const prefix = checkpointPrefix(jobId, checkpointId);
    try {
      // The metadata goes first (durably), so a discard cut short leaves an incomplete
      // checkpoint that nothing lists, never a listed one with missing state.
      await this.db.del(metadataKey(jobId, checkpointId), { sync: true });
      // Then every key of the checkpoint: one range delete (an iterator feeding batches).
      await this.db.clear({ gte: prefix, lt: `${prefix.slice(0, -1)}\x01` });
    } catch (e) {
      throw new CheckpointError('CHECKPOINT_FAILED', `cannot discard checkpoint ${checkpointId} of job "${jobId}" in ${this.directory}: ${describeError(e)}`, { cause: e });
    }
  }

  /**
   * The newest checkpoint of a job whose metadata and every task state verify. When newer
   * checkpoints are corrupt, each is logged (warn) with the reason and the one restored
   * instead; undefined when no checkpoint is valid.
   */
  async latestValid(jobId: string): Promise<CheckpointMetadata | undefined> {
    this.assertOpen();
    return latestValidCheckpoint(jobId, await this.scan(jobId), (metadata) => this.verifyTasks(metadata), this.logger);
  }

  /** Where one checkpoint lives, as shown to users: the database folder and the checkpoint's key prefix. */
  checkpointDirectory(jobId: string, checkpointId: number): string {
    return `${this.directory}#${jobId}/chk-${checkpointId}`;
  }

  /**
   * Test and repair hook: replaces the stored bytes (header included) of the task state a
   * handle names with `mutate(bytes)`. `bytes` is a copy; no checksum is recomputed, so a
   * changed payload reads back as `CHECKPOINT_CORRUPT`. Throws CHECKPOINT_FAILED when nothing
   * is stored under the handle. Not for normal use.
   */
  async rewriteRaw(handle: string, mutate: (bytes: Uint8Array) => Uint8Array): Promise<void> {
    this.assertOpen();
    const { jobId, checkpointId, taskId } = this.parseHandle(handle);
    const value = await this.getRaw(handle);
    if (value === undefined) throw new CheckpointError('CHECKPOINT_FAILED', `nothing is stored under ${handle}`);
    const next = mutate(new Uint8Array(value));
    try {
      await this.db.put(taskKey(jobId, checkpointId, taskId), Buffer.from(next));
    } catch (e) {
      throw new CheckpointError('CHECKPOINT_FAILED', `cannot rewrite ${handle}: ${describeError(e)}`, { cause: e });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.db.close();
    } catch (e) {
      throw new CheckpointError('CHECKPOINT_FAILED', `cannot close the level checkpoint store at ${this.directory}: ${describeError(e)}`, { cause: e });
    }
  }

  /** The raw stored value a handle names (undefined when missing). */
  private async getRaw(handle: string): Promise<Buffer | undefined> {
    const { jobId, checkpointId, taskId } = this.parseHandle(handle);
    try {
      return await this.db.get(taskKey(jobId, checkpointId, taskId));
    } catch (e) {
      throw new CheckpointError('CHECKPOINT_FAILED', `cannot read checkpoint state ${handle} from ${this.directory}: ${describeError(e)}`, { cause: e });
    }
  }

  private async verifyTasks(metadata: CheckpointMetadata): Promise<string | undefined> {
    for (const [taskId, handle] of Object.entries(metadata.tasks)) {
      const problem = await this.verifyTaskState(handle);
      if (problem !== undefined) return `task ${taskId}: ${problem}`;
    }
    return undefined;
  }

  /** The checkpoints of a job that have a metadata entry, ascending by id, with it checked. */
  private async scan(jobId: string): Promise<ScannedCheckpoint[]> {
    const prefix = jobPrefix(jobId);
    const end = `${prefix.slice(0, -1)}\x01`;
    const ids: number[] = [];
    try {
      const it = this.db.keys({ gte: prefix, lt: end });
      try {
        // `...\0meta` sorts before `...\0task\0...`, so a checkpoint's first key is its metadata
        // when it has one; after looking at it, skip the rest of that checkpoint.
        for (let key = await it.next(); key !== undefined; key = await it.next()) {
          const digits = key.slice(prefix.length, prefix.length + ID_DIGITS);
          const rest = key.slice(prefix.length + ID_DIGITS);
          if (/^[0-9]+$/.test(digits) && digits.length === ID_DIGITS) {
            if (rest === '\0meta') ids.push(Number(digits));
            it.seek(`${prefix}${digits}\x01`);
          } else {
            it.seek(end); // not a key this store writes: nothing to find after it
          }
        }
      } finally {
        await it.close();
      }
    } catch (e) {
      throw new CheckpointError('CHECKPOINT_FAILED', `cannot list checkpoints of job "${jobId}" in ${this.directory}: ${describeError(e)}`, { cause: e });
    }
    if (ids.length === 0) return [];
    let values: (Buffer | undefined)[];
    try {
      values = await this.db.getMany(ids.map((id) => metadataKey(jobId, id)));
    } catch (e) {
      throw new CheckpointError('CHECKPOINT_FAILED', `cannot read the metadata of job "${jobId}" in ${this.directory}: ${describeError(e)}`, { cause: e });
    }
    return ids.map((checkpointId, i) => parseMetadata(jobId, checkpointId, values[i]));
  }

  private assertOpen(): void {
    if (this.closed) throw new CheckpointError('CHECKPOINT_FAILED', `the level checkpoint store at ${this.directory} is closed`);
  }
}

/** Checks one metadata entry against the job and checkpoint its key names. */
function parseMetadata(jobId: string, checkpointId: number, value: Buffer | undefined): ScannedCheckpoint {
  if (value === undefined) return { checkpointId }; // deleted since the scan (a discard)
  const where = `metadata of checkpoint ${checkpointId}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(value));
  } catch {
    return { checkpointId, corrupt: `${where}: not valid JSON` };
  }
  if (!isMetadata(parsed)) return { checkpointId, corrupt: `${where}: not checkpoint metadata` };
  const { sha256: stored, ...content } = parsed;
  if (typeof stored !== 'string' || stored !== sha256(canonicalJson(content))) return { checkpointId, corrupt: `${where}: sha256 checksum mismatch` };
  if (content.version !== METADATA_VERSION) return { checkpointId, corrupt: `${where}: unsupported version ${String(content.version)}` };
  if (content.jobId !== jobId || content.checkpointId !== checkpointId) {
    return { checkpointId, corrupt: `${where}: names checkpoint ${content.checkpointId} of job "${content.jobId}"` };
  }
  return {
    checkpointId,
    metadata: { jobId: content.jobId, checkpointId: content.checkpointId, timestamp: content.timestamp, tasks: content.tasks, savepoint: content.savepoint },
  };
}
