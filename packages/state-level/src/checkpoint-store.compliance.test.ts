import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeCheckpointStore } from '@mobius/testkit';
import { LevelCheckpointStore } from './index.js';

let current: LevelCheckpointStore | undefined;
const folders: string[] = [];

// The level store passes the suite every checkpoint store must pass, the corruption test
// included: corrupt(handle) flips the last payload byte through the store's rewriteRaw hook
// (the store holds LevelDB's lock, so the bytes cannot be changed from outside while it is open).
describeCheckpointStore('level', {
  async create() {
    const directory = await mkdtemp(join(tmpdir(), 'mobius-level-checkpoint-compliance-'));
    folders.push(directory);
    current = new LevelCheckpointStore({ directory });
    return current;
  },
  async cleanup() {
    current = undefined;
    for (const dir of folders.splice(0)) await rm(dir, { recursive: true, force: true });
  },
  async corrupt(handle) {
    await current!.rewriteRaw(handle, (bytes) => {
      bytes[bytes.length - 1]! ^= 0xff;
      return bytes;
    });
  },
});
