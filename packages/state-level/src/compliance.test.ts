import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describeStateBackend } from '@mobius/testkit';
import { LevelStateBackend } from './index.js';

const directory = mkdtempSync(join(tmpdir(), 'mobius-level-compliance-'));

// Default cache: everything in memory between snapshots.
const roomy = new LevelStateBackend({ directory: join(directory, 'roomy') });
describeStateBackend('level', {
  create: (scope) => roomy.open(scope),
});

// A tiny cache: almost every access goes to LevelDB, through eviction and the write queue.
const tiny = new LevelStateBackend({ directory: join(directory, 'tiny'), cacheEntries: 8 });
describeStateBackend('level (cacheEntries 8)', {
  create: (scope) => tiny.open(scope),
  cleanup: async () => rmSync(directory, { recursive: true, force: true }),
});
