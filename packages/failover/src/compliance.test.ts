import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeCheckpointStore } from '@mobius/testkit';
import { FsCheckpointStore } from './fs-checkpoint-store.js';

let current: FsCheckpointStore | undefined;
const folders: string[] = [];

// The fs store passes the suite every checkpoint store must pass, the corruption test included:
// corrupt(handle) flips a byte of the payload in the file the handle names.
describeCheckpointStore('fs', {
  async create() {
    const directory = await mkdtemp(join(tmpdir(), 'mobius-fs-compliance-'));
    folders.push(directory);
    current = new FsCheckpointStore({ directory });
    return current;
  },
  async cleanup() {
    for (const dir of folders.splice(0)) await rm(dir, { recursive: true, force: true });
  },
  async corrupt(handle) {
    const path = current!.pathOf(handle);
    const bytes = await readFile(path);
    bytes[bytes.length - 1]! ^= 0xff;
    await writeFile(path, bytes);
  },
});
