import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TaskFailedError, silentLogger, type Collector } from '@mobius/interface';
import { createPlan } from '@mobius/planner';
import { keyGroupOf, normalizeKey, taskIndexForKeyGroup } from '@mobius/interface';
import { describe, expect, it } from 'vitest';
import { MemoryStateBackend } from './memory-state-backend.js';
import { Task } from './task.js';
import { TestTransport } from './test-channels.js';
import { collection, edge, graph, node, pipeline } from './test-graph.js';
import { deploy, runAll, indexedSink, range, SMALL } from './test-task-job.js';

describe('Task: delivering records', () => {
  it('runs a word count: chained operators, a keyed shuffle, running values, metrics', async () => {
    const lines = ['a b c', 'b c d', 'c d e', 'the ray a', 'a a a', '', 'e'];
    const words = lines.flatMap((l) => l.split(' ').filter((w) => w !== ''));
    const out: [number, unknown][] = [];
    const g = graph(
      [
        collection('source-0', lines, { parallelism: 2 }),
        node('flatMap-1', 'flatMap', { fn: (l: string) => l.split(' ').filter((w) => w !== '') }),
        node('map-2', 'map', { fn: (w: string) => [w, 1] as const }),
        node('reduce-3', 'reduce', { parallelism: 3, fn: (a: [string, number], b: [string, number]) => [a[0], a[1] + b[1]] }),
        node('sink-4', 'sink', { fn: indexedSink(out) }),
      ],
      [
        edge('source-0', 'flatMap-1'),
        edge('flatMap-1', 'map-2'),
        edge('map-2', 'reduce-3', 'key', { keySelector: (p: [string, number]) => p[0] }),
        edge('reduce-3', 'sink-4'),
      ],
      SMALL,
    );
    const job = deploy(g);
    expect(job.tasks.map((t) => t.id).sort()).toEqual(['reduce-3#0', 'reduce-3#1', 'reduce-3#2', 'source-0#0', 'source-0#1']);
    await runAll(job);

    expect(job.tasks.every((t) => t.state === 'FINISHED')).toBe(true);
    // One running value per word; the last (largest) per word is its count.
    expect(out).toHaveLength(words.length);
    const final = new Map<string, number>();
    for (const [, [w, n]] of out as [number, [string, number]][]) final.set(w, Math.max(final.get(w) ?? 0, n));
    const expected = new Map<string, number>();
    for (const w of words) expected.set(w, (expected.get(w) ?? 0) + 1);
    expect(final).toEqual(expected);
    // Each word was counted by the task owning its key group.
    for (const [index, [w]] of out as [number, [string, number]][]) {
      expect(index, w).toBe(taskIndexForKeyGroup(keyGroupOf(normalizeKey(w), 128), 3, 128));
    }

    const sources = job.of('source-0').map((t) => t.metrics());
    const reducers = job.of('reduce-3').map((t) => t.metrics());
    expect(sources.map((m) => m.recordsIn)).toEqual([3, 4]); // the lines of each slice
    expect(sources.reduce((s, m) => s + m.recordsOut, 0)).toBe(words.length); // word pairs sent
    expect(reducers.reduce((s, m) => s + m.recordsIn, 0)).toBe(words.length);
    expect(reducers.every((m) => m.recordsOut === 0)).toBe(true); // the sink is chained
    expect(sources[0]).toMatchObject({ taskId: 'source-0#0', vertexName: 'source-0 -> flatMap-1 -> map-2', attempt: 0 });
  });

  it('keeps order on a forward channel under backpressure, never exceeding the credits', async () => {
    const got: unknown[] = [];
    const g = pipeline(
      [
        collection('source-0', range(1000)),
        node('map-1', 'map', { chaining: false, fn: (x: number) => x * 2 }),
        node('sink-2', 'sink', { chaining: false, fn: (x: unknown) => void got.push(x) }),
      ],
      SMALL,
    );
    const job = deploy(g);
    expect(job.tasks).toHaveLength(3);
    await runAll(job);
    expect(got).toEqual(range(1000).map((x) => x * 2));
    for (const ch of job.transport.channels.values()) {
      expect(ch.maxQueued).toBeLessThanOrEqual(2);
      expect(ch.sent.filter((f) => f.kind === 'data').every((f) => f.count <= 4)).toBe(true);
      expect(ch.sent.at(-1)!.kind).toBe('end');
    }
    const [map] = job.of('map-1');
    expect(map.metrics()).toMatchObject({ recordsIn: 1000, recordsOut: 1000 });
  });

  it('rebalances round-robin into a wider operator', async () => {
    const out: [number, unknown][] = [];
    const g = pipeline([collection('source-0', range(30)), node('sink-1', 'sink', { parallelism: 3, fn: indexedSink(out) })], SMALL);
    await runAll(deploy(g));
    expect(out.map(([, r]) => r).sort((a, b) => (a as number) - (b as number))).toEqual(range(30));
    for (let i = 0; i < 3; i++) expect(out.filter(([t]) => t === i)).toHaveLength(10);
  });

  it('broadcasts every record to every task', async () => {
    const out: [number, unknown][] = [];
    const g = graph([collection('source-0', range(10)), node('sink-1', 'sink', { parallelism: 3, fn: indexedSink(out) })], [edge('source-0', 'sink-1', 'broadcast')], SMALL);
    await runAll(deploy(g));
    for (let i = 0; i < 3; i++) expect(out.filter(([t]) => t === i).map(([, r]) => r)).toEqual(range(10));
  });

  it('routes by a custom partitioner (function or object with partition())', async () => {
    for (const partitioner of [(r: number, n: number) => r % n, { partition: (r: number, n: number) => [r % n] }]) {
      const out: [number, unknown][] = [];
      const g = graph(
        [collection('source-0', range(12)), node('sink-1', 'sink', { parallelism: 3, fn: indexedSink(out) })],
        [edge('source-0', 'sink-1', 'custom', { partitioner })],
        SMALL,
      );
      await runAll(deploy(g));
      expect(out).toHaveLength(12);
      for (const [t, r] of out) expect(t).toBe((r as number) % 3);
    }
  });

  it('merges a union of two sources', async () => {
    const got: unknown[] = [];
    const g = graph(
      [
        collection('left-0', ['l1', 'l2', 'l3']),
        collection('right-1', ['r1', 'r2']),
        node('union-2', 'union'),
        node('sink-3', 'sink', { fn: (x: unknown) => void got.push(x) }),
      ],
      [edge('left-0', 'union-2'), edge('right-1', 'union-2'), edge('union-2', 'sink-3')],
      SMALL,
    );
    const job = deploy(g);
    await runAll(job);
    expect([...got].sort()).toEqual(['l1', 'l2', 'l3', 'r1', 'r2']);
    expect(job.of('union-2')[0].metrics().recordsIn).toBe(5);
  });

  it('copies rich functions per task: each task has its own fields', async () => {
    const out: unknown[] = [];
    const counter = {
      count: 0,
      map(x: number) {
        this.count++;
        return [x, this.count];
      },
    };
    const g = pipeline(
      [collection('source-0', range(6), { parallelism: 2 }), node('map-1', 'map', { fn: counter }), node('sink-2', 'sink', { fn: (x: unknown) => void out.push(x) })],
      SMALL,
    );
    await runAll(deploy(g));
    // Each task counted its own 3 records from 1.
    expect(out.filter((p) => (p as number[])[0] < 3).map((p) => (p as number[])[1])).toEqual([1, 2, 3]);
    expect(out.filter((p) => (p as number[])[0] >= 3).map((p) => (p as number[])[1])).toEqual([1, 2, 3]);
    expect(counter.count).toBe(0);
  });

  it('reads a text file in parallel byte ranges', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mobius-task-'));
    try {
      const lines = range(500).map((i) => (i % 7 === 0 ? '' : `line ${i} ${'é'.repeat(i % 13)}`));
      const path = join(dir, 'input.txt');
      await writeFile(path, lines.join('\r\n'));
      const got: unknown[] = [];
      const g = pipeline(
        [
          node('source-0', 'source', { parallelism: 3, source: { type: 'textFile', path }, data: undefined }),
          node('sink-1', 'sink', { parallelism: 1, fn: (x: unknown) => void got.push(x) }),
        ],
        SMALL,
      );
      const job = deploy(g);
      await runAll(job);
      expect([...got].sort()).toEqual([...lines].sort());
      expect(job.of('source-0').reduce((s, t) => s + t.metrics().recordsIn, 0)).toBe(500);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('opens operators downstream first and closes them all at the end', async () => {
    const calls: string[] = [];
    const rich = (name: string, method: string) => ({
      open() {
        calls.push(`open ${name}`);
      },
      close() {
        calls.push(`close ${name}`);
      },
      [method]: (x: unknown) => (method === 'filter' ? true : method === 'sink' ? undefined : x),
    });
    const g = pipeline([collection('source-0', [1]), node('map-1', 'map', { fn: rich('map', 'map') }), node('filter-2', 'filter', { fn: rich('filter', 'filter') }), node('sink-3', 'sink', { fn: rich('sink', 'sink') })]);
    await runAll(deploy(g));
    expect(calls).toEqual(['open sink', 'open filter', 'open map', 'close map', 'close filter', 'close sink']);
  });

  it('refuses a task id that is not in the plan', () => {
    const g = pipeline([collection('source-0', [1]), node('sink-1', 'sink')]);
    const plan = createPlan(g);
    const transport = new TestTransport();
    expect(
      () => new Task({ jobId: 'j', plan, graph: g, taskId: 'nope#0', attempt: 0 }, { transport, endpointOf: () => transport.endpoint, stateBackend: new MemoryStateBackend(), logger: silentLogger }),
    ).toThrow(TaskFailedError);
  });
});

describe('Task: collector form inside a task', () => {
  it('flatMap emitting through the collector reaches the sink', async () => {
    const got: unknown[] = [];
    const g = pipeline([
      collection('source-0', ['ab', 'c']),
      node('flatMap-1', 'flatMap', {
        fn: (s: string, out: Collector<string>) => {
          for (const ch of s) out.collect(ch);
        },
      }),
      node('sink-2', 'sink', { fn: (x: unknown) => void got.push(x) }),
    ]);
    await runAll(deploy(g));
    expect(got).toEqual(['a', 'b', 'c']);
  });
});
