// Run by src/heap.test.ts: node --expose-gc test/heap-child.mjs <directory> <keys> <cacheEntries>
// Writes <keys> distinct keys into one task (in chunks of 10,000 puts per event-loop turn, as
// the runtime processes frames) and reports heapUsed growth after a full GC, sampled every
// 100,000 keys, as one JSON line on stdout.
import { LevelStateBackend } from '../dist/index.js';

const [directory, keysArg, cacheArg] = process.argv.slice(2);
const keys = Number(keysArg);
const cacheEntries = Number(cacheArg);
const heap = () => {
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().heapUsed;
};

const backend = new LevelStateBackend({ directory, cacheEntries });
const task = await backend.open({
  jobId: 'heap',
  operatorId: 'reduce',
  taskIndex: 0,
  maxParallelism: 128,
  keyGroups: { start: 0, end: 127 },
  keyGroupOf: (key) => {
    const s = String(key);
    let h = 0x811c9dc5;
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
    return (h >>> 0) % 128;
  },
});
const store = task.keyed('counts');
const base = heap();
let maxGrowth = 0;
let maxEntries = 0;
const started = Date.now();
for (let i = 0; i < keys; i++) {
  store.put(`key-${i}`, { count: i, word: `word-${i}` });
  if ((i + 1) % 10_000 === 0) {
    const s = task.stats();
    maxEntries = Math.max(maxEntries, s.cached + s.flushing);
    await new Promise((resolve) => setImmediate(resolve));
  }
  if ((i + 1) % 100_000 === 0) maxGrowth = Math.max(maxGrowth, heap() - base);
}
const writeMs = Date.now() - started;
// Spot-check reads (from disk: the cache holds the last cacheEntries keys only).
let wrong = 0;
for (let i = 0; i < keys; i += 997) if (store.get(`key-${i}`)?.count !== i) wrong++;
maxGrowth = Math.max(maxGrowth, heap() - base);
const stats = task.stats();
const size = store.size();
await task.dispose();
process.stdout.write(`${JSON.stringify({ keys, cacheEntries, writeMs, baseHeap: base, maxGrowth, maxEntries, peak: stats.peak, size, wrong, blockingWaits: stats.blockingWaits, batches: stats.batches })}\n`);
