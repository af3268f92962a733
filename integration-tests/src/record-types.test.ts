import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RecordTypeError, StreamingContext, registerType } from 'mobius';
import { mobiusCli, run, tempDir } from './helpers.js';
import { clusterCli, startCluster, writeJob } from './cluster-helpers.js';

/**
 * Records keep their types across process boundaries (issue 17, item 4), and an embedded job with
 * runtime.serialize-local-channels sees what a cluster would. Expected values are rebuilt by the
 * job's own `make(i)` in the receiving process and compared with node:util's isDeepStrictEqual
 * (prototypes, Map and Set contents, typed array classes, -0 against 0), not by the engine.
 */

const N = 200;

/** A job module: records of every listed type cross a keyBy from one task to two; each check line goes to outDir. */
function typesJob(outDir: string, register: boolean): string {
  return `
import { appendFileSync, mkdirSync } from 'node:fs';
import { inspect, isDeepStrictEqual } from 'node:util';
import { StreamingContext, registerType } from 'mobius';

class Point {
  constructor(public x: number, public y: number) {}
  norm(): number { return Math.hypot(this.x, this.y); }
}
${register ? 'registerType(Point);' : ''}

function make(i: number) {
  return {
    i,
    map: new Map<unknown, unknown>([['k' + i, i], [i, new Set(['s', new Date(i * 1000)])]]),
    set: new Set<unknown>([i, 'x', new Map([[BigInt(i), new Uint8Array([i % 256])]])]),
    date: new Date(1_700_000_000_000 + i),
    big: BigInt(i) * 2n ** 80n,
    small: BigInt(-i),
    bytes: new Uint8Array([1, 2, i % 256]),
    f64: new Float64Array([i / 3, -0, NaN]),
    i16: new Int16Array([-i, i]),
    u32: new Uint32Array([i * 1000]),
    none: undefined,
    nan: NaN,
    negZero: -0,
    inf: Infinity,
    negInf: -Infinity,
    point: new Point(3 * i, 4 * i),
    nested: [new Map([['points', new Set([new Point(i, 0)])]])],
  };
}

const out = ${JSON.stringify(outDir)};
const ctx = StreamingContext.builder().option('runtime.serialize-local-channels', true).build();
ctx
  .fromCollection(Array.from({ length: ${N} }, (_, i) => i))
  .map((i: number) => ({ rec: make(i), from: process.pid }))
  .name('make-records')
  .keyBy((e) => e.rec.i)
  .map((e) => e)
  .name('receive')
  .setParallelism(2)
  .sink((e) => {
    const ok = isDeepStrictEqual(e.rec, make(e.rec.i)) && e.rec.point instanceof Point && e.rec.point.norm() === 5 * e.rec.i;
    mkdirSync(out, { recursive: true });
    appendFileSync(out + '/part-' + process.pid, JSON.stringify({ i: e.rec.i, ok, from: e.from, at: process.pid, got: ok ? '' : inspect(e.rec) }) + '\\n');
  });
await ctx.execute('record_types');
`;
}

interface Line {
  i: number;
  ok: boolean;
  from: number;
  at: number;
  got: string;
}

function readLines(outDir: string): Line[] {
  return readdirSync(outDir).flatMap((f) =>
    readFileSync(join(outDir, f), 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Line),
  );
}

function expectAllArrivedEqual(lines: Line[]): void {
  expect(lines.filter((l) => !l.ok).slice(0, 3)).toEqual([]);
  expect(lines.map((l) => l.i).sort((a, b) => a - b)).toEqual(Array.from({ length: N }, (_, i) => i));
}

describe('records keep their types: embedded with runtime.serialize-local-channels', () => {
  class Reading {
    constructor(
      readonly sensor: string,
      readonly value: number,
    ) {}
    scaled(): number {
      return this.value * 10;
    }
  }
  registerType(Reading, 'it.Reading');
  class Unregistered {
    readonly n = 1;
  }

  it('a registered class instance arrives as an instance, its methods working', async () => {
    const ctx = StreamingContext.builder().option('runtime.serialize-local-channels', true).build();
    const got: unknown[] = await ctx
      .fromValues(new Reading('a', 1), new Reading('b', 2))
      .map((r: Reading) => r)
      .setParallelism(2)
      .executeAndCollect('registered');
    expect(got).toHaveLength(2);
    for (const r of got) expect(r).toBeInstanceOf(Reading);
    expect((got as Reading[]).map((r) => r.scaled()).sort()).toEqual([10, 20]);
  });

  it('an unregistered class instance fails the job with RecordTypeError naming the operator, the class and registerType', async () => {
    const ctx = StreamingContext.builder().option('runtime.serialize-local-channels', true).build();
    ctx
      .fromValues(1, 2, 3)
      .map(() => ({ payload: new Unregistered() }))
      .name('wrap')
      .keyBy(() => 'k')
      .map((x: { payload: Unregistered }) => x)
      .sink(() => {});
    const error = await ctx.execute('unregistered').then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error).toBeDefined();
    expect(error!.message).toContain('operator "wrap"');
    expect(error!.message).toContain('Unregistered');
    expect(error!.message).toContain('registerType(Unregistered)');
    let cause: unknown = error;
    while (cause instanceof Error && !(cause instanceof RecordTypeError)) cause = cause.cause;
    expect(cause).toBeInstanceOf(RecordTypeError);
    expect((cause as RecordTypeError).code).toBe('RECORD_TYPE_UNSUPPORTED');
  });

  it("is on by default for the suite's embedded jobs (src/suite-setup.ts)", async () => {
    const ctx = StreamingContext.builder().build();
    ctx
      .fromValues(1)
      .map(() => new Unregistered())
      .keyBy(() => 'k')
      .map((x: Unregistered) => x)
      .sink(() => {});
    await expect(ctx.execute('suite-default')).rejects.toThrow(/registerType\(Unregistered\)/);
  });

  it('with the option off, in-process channels pass the originals (the cluster would not)', async () => {
    const sent = new Unregistered();
    const ctx = StreamingContext.builder().option('runtime.serialize-local-channels', false).build();
    const got = await ctx
      .fromValues(1)
      .map(() => sent)
      .keyBy(() => 'k')
      .map((x: Unregistered) => x)
      .executeAndCollect('originals');
    expect(got[0]).toBe(sent);
  });

  it('the job module of the cluster test gives the same results embedded (mobius run)', async () => {
    const tmp = tempDir('mobius-types-embedded-');
    try {
      const out = join(tmp.dir, 'out');
      const result = await run(process.execPath, [mobiusCli, 'run', writeJob('types.ts', typesJob(out, true))], { timeoutMs: 120_000 });
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expectAllArrivedEqual(readLines(out));
    } finally {
      tmp.remove();
    }
  });
});

describe('records keep their types: a cluster of two worker processes', () => {
  let cluster: Awaited<ReturnType<typeof startCluster>>;
  const tmp = tempDir('mobius-types-cluster-');
  beforeAll(async () => {
    cluster = await startCluster(2);
  });
  afterAll(async () => {
    await cluster?.stop();
    tmp.remove();
  });

  it('records of every listed type arrive equal on the other worker, registered classes as instances', async () => {
    const out = join(tmp.dir, 'registered');
    const submit = await run(process.execPath, [clusterCli, 'submit', writeJob('types.ts', typesJob(out, true)), '--wait', '--url', cluster.url, '--token', cluster.token], {
      timeoutMs: 180_000,
    });
    expect(submit.stderr).toBe('');
    expect(submit.code).toBe(0);
    const lines = readLines(out);
    expectAllArrivedEqual(lines);
    // Some records crossed from the source's worker process to the other one.
    expect(lines.some((l) => l.from !== l.at)).toBe(true);
  });

  it('an unregistered class fails the job with the named error', async () => {
    const out = join(tmp.dir, 'unregistered');
    const submit = await run(process.execPath, [clusterCli, 'submit', writeJob('types.ts', typesJob(out, false)), '--wait', '--url', cluster.url, '--token', cluster.token], {
      timeoutMs: 180_000,
    });
    expect(submit.code).not.toBe(0);
    const text = submit.stdout + submit.stderr;
    expect(text).toContain('operator "make-records"');
    expect(text).toContain('registerType(Point)');
  });
});
