import { describe, expect, it } from 'vitest';
import { TaskProgress, attachTaskProgress } from './task-progress.js';
import { collection, edge, graph, node } from './test-graph.js';
import { deploy, runAll, range } from './test-task-job.js';

/** Holds the thread for `ms` (a CPU-bound user function). */
function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy
  }
}

describe('TaskProgress', () => {
  it('keeps each slot apart and reads back what the loop wrote', () => {
    const cells = new Int32Array(new SharedArrayBuffer(4 * TaskProgress.CELLS * 4));
    const a = TaskProgress.inShared(cells, 1);
    const b = TaskProgress.inShared(cells, 2);
    a.working(10);
    a.advanced(42);
    b.waiting(7);
    expect(TaskProgress.read(cells, 1)).toEqual({ records: 42, busy: true });
    expect(TaskProgress.read(cells, 2)).toEqual({ records: 7, busy: false });
    a.waiting(43);
    expect(TaskProgress.read(cells, 1)).toEqual({ records: 43, busy: false });
    expect(() => TaskProgress.inShared(cells, 4)).toThrow(/outside a shared array of 4 slots/);
  });
});

describe('the input loop yields and reports progress', () => {
  it('a slow map lets the event loop run inside a frame, and its progress cells move while it works', async () => {
    const n = 400;
    let mapped = 0;
    const g = graph(
      [
        collection('source-0', range(n)),
        // 50 µs per record: a 400-record frame holds the thread for 20 ms without yields.
        node('map-1', 'map', {
          chaining: false,
          fn: (x: number) => {
            spin(0.05);
            mapped++;
            return x;
          },
        }),
        node('sink-2', 'sink', { fn: () => undefined }),
      ],
      [edge('source-0', 'map-1'), edge('map-1', 'sink-2')],
      { 'runtime.batch.size': 1024 },
    );
    const job = deploy(g);
    const cells = new Int32Array(new SharedArrayBuffer(TaskProgress.CELLS * 4));
    const map = job.of('map-1')[0];
    attachTaskProgress(map, TaskProgress.inShared(cells, 0));
    // What another thread would see, sampled whenever the event loop gets a turn.
    const seen: { mapped: number; records: number; busy: boolean }[] = [];
    const sampler = setInterval(() => seen.push({ mapped, ...TaskProgress.read(cells, 0) }), 1);
    try {
      await runAll(job);
    } finally {
      clearInterval(sampler);
    }
    expect(mapped).toBe(n);
    const midway = seen.filter((s) => s.mapped > 0 && s.mapped < n);
    expect(midway.length, 'turns of the event loop while the map worked through its records').toBeGreaterThanOrEqual(2);
    // Between slices the task lets the thread go, and its count is where the map got to.
    for (const s of midway) {
      expect(s.busy).toBe(false);
      expect(s.records).toBe(s.mapped);
    }
    expect(TaskProgress.read(cells, 0)).toEqual({ records: n, busy: false });
  });
});
