import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JobRecord, JobStore } from '@mobius/interface';

/**
 * Job records as files, `<root>/<job id>/job.json`, each replaced atomically (write a temporary
 * file, then rename), so a coordinator that dies mid-write leaves the old record readable.
 */
export class FsJobStore implements JobStore {
  constructor(readonly root: string) {
    mkdirSync(root, { recursive: true });
  }

  save(record: JobRecord): void {
    const dir = join(this.root, record.id);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'job.json.tmp'), JSON.stringify(record));
    renameSync(join(dir, 'job.json.tmp'), join(dir, 'job.json'));
  }

  load(jobId: string): JobRecord | undefined {
    const file = join(this.root, jobId, 'job.json');
    if (!existsSync(file)) return undefined;
    return JSON.parse(readFileSync(file, 'utf8')) as JobRecord;
  }

  list(): readonly string[] {
    return readdirSync(this.root).filter((id) => existsSync(join(this.root, id, 'job.json')));
  }
}

/** Job records kept in memory (embedded jobs end with their process). */
export class MemoryJobStore implements JobStore {
  private readonly records = new Map<string, JobRecord>();

  save(record: JobRecord): void {
    this.records.set(record.id, record);
  }

  load(jobId: string): JobRecord | undefined {
    return this.records.get(jobId);
  }

  list(): readonly string[] {
    return [...this.records.keys()];
  }
}
