import { createHash, randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { isAbsolute, join, normalize, resolve, sep } from 'node:path';
import { CheckpointError, silentLogger, type CheckpointMetadata, type CheckpointStore, type Logger, completedCheckpoints, latestValidCheckpoint, type ScannedCheckpoint } from '@mobius/interface';
import { FileHeader, canonicalJson, sha256Hex as sha256 } from '@mobius/plugin-kit';

/** Options of {@link FsCheckpointStore}. */
export interface FsCheckpointStoreOptions {
  /** The root folder. A shared mount makes the same checkpoints visible on several machines. */
  readonly directory: string;
  readonly logger?: Logger;
}

/** The header of every task file (the same as the LevelDB store's task values). */
const TASK_FILE = new FileHeader({ magic: 'MOBC', version: 1, name: 'a Mobius checkpoint file' });
const HEADER_BYTES = FileHeader.BYTES;
/** Version of the metadata file format. */
const METADATA_VERSION = 1;
const METADATA_FILE = '_metadata.json';
const CHECKPOINT_DIR = /^chk-(0|[1-9][0-9]*)$/;
const STATE_SUFFIX = '.state';
/** Chunk size of streaming checksum verification. */
const VERIFY_CHUNK = 1 << 20;
/** Longest encoded name kept as is; longer ones are shortened with a hash (file names are ≤ 255 bytes). */
const MAX_NAME = 160;

/**
 * A file or folder name for an arbitrary id: letters, digits, `.` and `-` are kept, every
 * other byte (of the UTF-8 encoding, `_` included) becomes `_xx` (hex), so distinct ids get
 * distinct names. Names that would be too long keep a prefix and get a sha256 suffix.
 */
export function sanitiseName(id: string): string {
  let out = '';
  for (const byte of Buffer.from(id, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9.-]/.test(c) ? c : `_${byte.toString(16).padStart(2, '0')}`;
  }
  if (out === '' || out === '.' || out === '..') out = `_${out.replace(/\./g, '_2e')}`;
  if (out.length > MAX_NAME) out = `${out.slice(0, 100)}~${createHash('sha256').update(id).digest('hex').slice(0, 32)}`;
  return out;
}

function errnoCode(e: unknown): string | undefined {
  return typeof e === 'object' && e !== null && 'code' in e ? String((e as { code: unknown }).code) : undefined;
}

function describeError(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Fsyncs a folder so that renames and new entries in it are durable. Not possible on every platform. */
async function fsyncDirectory(path: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await open(path, fsConstants.O_RDONLY);
    await fh.sync();
  } catch (e) {
    // Windows cannot open or fsync a directory; some network file systems refuse it too.
    const code = errnoCode(e);
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EBADF' && code !== 'EACCES') throw e;
  } finally {
    await fh?.close();
  }
}

/** Writes `parts` to `path` atomically: a temporary name in the same folder, fsync, rename. */
async function writeAtomic(path: string, parts: readonly Uint8Array[]): Promise<void> {
  const temp = `${path}.tmp-${process.pid}-${randomBytes(6).toString('hex')}`;
  let fh: FileHandle | undefined;
  try {
    fh = await open(temp, 'wx');
    for (const part of parts) {
      let offset = 0;
      while (offset < part.byteLength) {
        const { bytesWritten } = await fh.write(part, offset, part.byteLength - offset);
        offset += bytesWritten;
      }
    }
    await fh.sync();
    await fh.close();
    fh = undefined;
    await rename(temp, path);
  } catch (e) {
    await fh?.close().catch(() => {});
    await unlink(temp).catch(() => {});
    throw e;
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

/**
 * A {@link CheckpointStore} on a folder (kind `fs`), local or a shared mount:
 *
 * ```
 * <directory>/<jobId>/chk-<id>/<taskId>.state     header (MOBC, version, length, sha256) + payload
 * <directory>/<jobId>/chk-<id>/_metadata.json     the CheckpointMetadata + sha256 of its canonical JSON
 * ```
 *
 * Job and task ids are sanitised into file names (see {@link sanitiseName}). A handle is the
 * file's path relative to the directory (`/`-separated), so it stays valid when the mount
 * point differs between machines. Every write is atomic (temporary name, fsync, rename);
 * `complete` also fsyncs the folders, so a completed checkpoint survives a crash.
 */
export class FsCheckpointStore implements CheckpointStore {
  readonly kind = 'fs';
  readonly directory: string;
  private readonly logger: Logger;
  private closed = false;

  constructor(options: FsCheckpointStoreOptions) {
    if (typeof options.directory !== 'string' || options.directory === '') {
      throw new CheckpointError('CHECKPOINT_FAILED', 'FsCheckpointStore needs a directory');
    }
    this.directory = resolve(options.directory);
    this.logger = (options.logger ?? silentLogger).child({ component: 'fs-checkpoint-store' });
  }

  /** The folder of one job. */
  jobDirectory(jobId: string): string {
    return join(this.directory, sanitiseName(jobId));
  }

  /** The folder of one checkpoint of a job. */
  checkpointDirectory(jobId: string, checkpointId: number): string {
    return join(this.jobDirectory(jobId), `chk-${checkpointId}`);
  }

  /** The absolute path of the file a handle names. Throws CHECKPOINT_FAILED for a handle that is not one of this store's. */
  pathOf(handle: string): string {
    const parts = typeof handle === 'string' ? handle.split('/') : [];
    const valid =
      parts.length === 3 &&
      parts.every((p) => p !== '' && p !== '.' && p !== '..' && !p.includes('\\') && !p.includes('\0')) &&
      CHECKPOINT_DIR.test(parts[1]!) &&
      parts[2]!.endsWith(STATE_SUFFIX) &&
      !isAbsolute(handle);
    if (!valid) throw new CheckpointError('CHECKPOINT_FAILED', `"${String(handle)}" is not a handle of the fs checkpoint store`);
    const path = normalize(join(this.directory, ...parts));
    if (!path.startsWith(this.directory + sep)) {
      throw new CheckpointError('CHECKPOINT_FAILED', `"${handle}" is not a handle of the fs checkpoint store`);
    }
    return path;
  }

  /**
   * Writes one task's snapshot atomically. If the checkpoint is discarded (aborted) during the
   * write, this rejects with CHECKPOINT_ABORTED. The caller may ignore that outcome: the
   * coordinator no longer waits for this ack.
   */
  async writeTaskState(jobId: string, checkpointId: number, taskId: string, data: Uint8Array): Promise<string> {
    this.assertOpen();
    assertCheckpointId(checkpointId);
    const dir = this.checkpointDirectory(jobId, checkpointId);
    const name = `${sanitiseName(taskId)}${STATE_SUFFIX}`;
    const header = TASK_FILE.encode(data);
    try {
      await mkdir(dir, { recursive: true });
      await writeAtomic(join(dir, name), [header, data]);
    } catch (e) {
      // The folder existed after mkdir: a missing path now means the checkpoint was discarded
      // (aborted, by this process or another) while the task wrote into it.
      if (errnoCode(e) === 'ENOENT') {
        throw new CheckpointError('CHECKPOINT_ABORTED', `checkpoint ${checkpointId} of job "${jobId}" was aborted while task "${taskId}" wrote its state: its folder ${dir} was removed`, { cause: e });
      }
      throw new CheckpointError('CHECKPOINT_FAILED', `cannot write the state of task "${taskId}" for checkpoint ${checkpointId} of job "${jobId}" to ${join(dir, name)}: ${describeError(e)}`, { cause: e });
    }
    return `${sanitiseName(jobId)}/chk-${checkpointId}/${name}`;
  }

  async readTaskState(handle: string): Promise<Uint8Array> {
    this.assertOpen();
    const path = this.pathOf(handle);
    let file: Buffer;
    try {
      file = await readFile(path);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') throw new CheckpointError('CHECKPOINT_CORRUPT', `checkpoint file ${path} is missing`, { cause: e });
      throw new CheckpointError('CHECKPOINT_FAILED', `cannot read checkpoint file ${path}: ${describeError(e)}`, { cause: e });
    }
    const problem = TASK_FILE.verify(file);
    if (problem !== undefined) throw new CheckpointError('CHECKPOINT_CORRUPT', `checkpoint file ${path} is corrupt: ${problem}`);
    return TASK_FILE.payloadOf(file);
  }

  async taskStateSize(handle: string): Promise<number> {
    this.assertOpen();
    const path = this.pathOf(handle);
    try {
      return Math.max(0, (await stat(path)).size - FileHeader.BYTES);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') throw new CheckpointError('CHECKPOINT_CORRUPT', `checkpoint file ${path} is missing`, { cause: e });
      throw new CheckpointError('CHECKPOINT_FAILED', `cannot read checkpoint file ${path}: ${describeError(e)}`, { cause: e });
    }
  }

  /**
   * Checks a task file without keeping its payload in memory (streams the checksum).
   * Resolves with the reason it is not valid, or undefined when it is.
   */
  async verifyTaskState(handle: string): Promise<string | undefined> {
    this.assertOpen();
    let path: string;
    try {
      path = this.pathOf(handle);
    } catch (e) {
      return describeError(e);
    }
    let fh: FileHandle | undefined;
    try {
      fh = await open(path, 'r');
      const { size } = await fh.stat();
      const header = Buffer.alloc(HEADER_BYTES);
      const { bytesRead } = await fh.read(header, 0, HEADER_BYTES, 0);
      const problem = TASK_FILE.check(header.subarray(0, bytesRead), size);
      if (problem !== undefined) return `${path}: ${problem}`;
      const hash = TASK_FILE.hash();
      const chunk = Buffer.alloc(Math.min(VERIFY_CHUNK, Math.max(1, size - HEADER_BYTES)));
      let position = HEADER_BYTES;
      while (position < size) {
        const r = await fh.read(chunk, 0, Math.min(chunk.byteLength, size - position), position);
        if (r.bytesRead === 0) return `${path}: truncated while reading`;
        hash.update(chunk.subarray(0, r.bytesRead));
        position += r.bytesRead;
      }
      if (!TASK_FILE.matches(header, hash)) return `${path}: sha256 checksum mismatch`;
      return undefined;
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return `${path} is missing`;
      return `${path}: ${describeError(e)}`;
    } finally {
      await fh?.close();
    }
  }

  async complete(metadata: CheckpointMetadata): Promise<void> {
    this.assertOpen();
    assertCheckpointId(metadata.checkpointId);
    const content = {
      version: METADATA_VERSION,
      jobId: metadata.jobId,
      checkpointId: metadata.checkpointId,
      timestamp: metadata.timestamp,
      savepoint: metadata.savepoint,
      tasks: { ...metadata.tasks },
    };
    const json = `${JSON.stringify({ ...content, sha256: sha256(canonicalJson(content)) }, null, 2)}\n`;
    const jobDir = this.jobDirectory(metadata.jobId);
    const dir = this.checkpointDirectory(metadata.jobId, metadata.checkpointId);
    try {
      await mkdir(dir, { recursive: true });
      // The task files' renames first, then the metadata, then the folders that hold them.
      await fsyncDirectory(dir);
      await writeAtomic(join(dir, METADATA_FILE), [Buffer.from(json, 'utf8')]);
      await fsyncDirectory(dir);
      await fsyncDirectory(jobDir);
      await fsyncDirectory(this.directory);
    } catch (e) {
      throw new CheckpointError('CHECKPOINT_FAILED', `cannot record checkpoint ${metadata.checkpointId} of job "${metadata.jobId}" as complete in ${dir}: ${describeError(e)}`, { cause: e });
    }
  }

  async list(jobId: string): Promise<readonly CheckpointMetadata[]> {
    this.assertOpen();
    return completedCheckpoints(jobId, await this.scan(jobId), this.logger);
  }

  async discard(jobId: string, checkpointId: number): Promise<void> {
    this.assertOpen();
    assertCheckpointId(checkpointId);
    const dir = this.checkpointDirectory(jobId, checkpointId);
    try {
      await rm(dir, { recursive: true, force: true, maxRetries: 3 });
    } catch (e) {
      throw new CheckpointError('CHECKPOINT_FAILED', `cannot discard checkpoint ${checkpointId} of job "${jobId}" (${dir}): ${describeError(e)}`, { cause: e });
    }
  }

  /**
   * The newest checkpoint of a job whose metadata and every task file verify. When newer
   * checkpoints are corrupt, each is logged (warn) with the reason and the one restored
   * instead; undefined when no checkpoint is valid.
   */
  async latestValid(jobId: string): Promise<CheckpointMetadata | undefined> {
    this.assertOpen();
    return latestValidCheckpoint(jobId, await this.scan(jobId), (metadata) => this.verifyTasks(metadata), this.logger);
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private async verifyTasks(metadata: CheckpointMetadata): Promise<string | undefined> {
    for (const [taskId, handle] of Object.entries(metadata.tasks)) {
      const problem = await this.verifyTaskState(handle);
      if (problem !== undefined) return `task ${taskId}: ${problem}`;
    }
    return undefined;
  }

  /** The `chk-<id>` folders of a job, ascending by id, with their metadata checked. */
  private async scan(jobId: string): Promise<ScannedCheckpoint[]> {
    const jobDir = this.jobDirectory(jobId);
    let names: string[];
    try {
      names = await readdir(jobDir);
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return [];
      throw new CheckpointError('CHECKPOINT_FAILED', `cannot list checkpoints of job "${jobId}" in ${jobDir}: ${describeError(e)}`, { cause: e });
    }
    const ids = names
      .map((n) => CHECKPOINT_DIR.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .filter((id) => Number.isSafeInteger(id))
      .sort((a, b) => a - b);
    return Promise.all(ids.map((id) => this.readMetadata(jobId, id)));
  }

  private async readMetadata(jobId: string, checkpointId: number): Promise<ScannedCheckpoint> {
    const path = join(this.checkpointDirectory(jobId, checkpointId), METADATA_FILE);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return { checkpointId };
      return { checkpointId, corrupt: `${path}: ${describeError(e)}` };
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return { checkpointId, corrupt: `${path}: not valid JSON` };
    }
    if (!isMetadata(parsed)) return { checkpointId, corrupt: `${path}: not checkpoint metadata` };
    const { sha256: stored, ...content } = parsed;
    if (typeof stored !== 'string' || stored !== sha256(canonicalJson(content))) return { checkpointId, corrupt: `${path}: sha256 checksum mismatch` };
    if (content.version !== METADATA_VERSION) return { checkpointId, corrupt: `${path}: unsupported version ${String(content.version)}` };
    if (content.jobId !== jobId || content.checkpointId !== checkpointId) {
      return { checkpointId, corrupt: `${path}: names checkpoint ${content.checkpointId} of job "${content.jobId}"` };
    }
    return {
      checkpointId,
      metadata: { jobId: content.jobId, checkpointId: content.checkpointId, timestamp: content.timestamp, tasks: content.tasks, savepoint: content.savepoint },
    };
  }

  private assertOpen(): void {
    if (this.closed) throw new CheckpointError('CHECKPOINT_FAILED', `the fs checkpoint store at ${this.directory} is closed`);
  }
}

function assertCheckpointId(checkpointId: number): void {
  if (!Number.isSafeInteger(checkpointId) || checkpointId < 0) {
    throw new CheckpointError('CHECKPOINT_FAILED', `checkpoint id must be a non-negative integer, got ${String(checkpointId)}`);
  }
}
