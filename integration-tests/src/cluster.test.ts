import { connect } from 'node:net';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusPath, mobiusCli, readText, referenceCounts, repoRoot, run, sortedEntries, tempDir } from './helpers.js';
import { RawZmtp, dealerReady, greeting, parseGreeting } from './zmtp.js';
import { clusterCli, readCounts, startCluster, submitWordCountOnCluster, wordCountJob, writeJob, type JobDetails } from './cluster-helpers.js';

type Cluster = Awaited<ReturnType<typeof startCluster>>;

/** Writes raw bytes to a port, then drops the connection (a ZeroMQ peer keeps a half-closed one open). */
function sendGarbage(host: string, port: number, bytes: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const socket = connect(port, host, () => {
      socket.write(bytes, () => {
        socket.destroy();
        resolve();
      });
    });
    socket.on('error', () => resolve());
  });
}

const portOf = (endpoint: string): number => Number(endpoint.slice(endpoint.lastIndexOf(':') + 1));

describe('the standalone cluster: coordinator and two worker processes', () => {
  let cluster: Cluster;
  const tmp = tempDir('mobius-cluster-');
  const reference = sortedEntries(referenceCounts(readText(corpusPath)));

  beforeAll(async () => {
    cluster = await startCluster(2);
  });
  afterAll(async () => {
    await cluster?.stop();
    tmp.remove();
  });

  it('runs the word count at parallelism 2 with the reduce tasks on different workers, and gets the reference counts; the same job file gives the same counts embedded', async () => {
    const out = join(tmp.dir, 'cluster-out');
    await submitWordCountOnCluster(cluster, corpusPath, out);
    expect(sortedEntries(readCounts(out))).toEqual(reference);

    const embeddedOut = join(tmp.dir, 'embedded-out');
    const embeddedJob = writeJob('word-count.ts', wordCountJob(corpusPath, embeddedOut, 2));
    const embedded = await run(process.execPath, [mobiusCli, 'run', embeddedJob], { timeoutMs: 120_000 });
    expect(embedded.code).toBe(0);
    expect(sortedEntries(readCounts(embeddedOut))).toEqual(reference);
  });

  it('GET /workers lists id, address, slots and process id; GET /jobs lists the jobs', async () => {
    const workers = (await cluster.api.call<{ id: string; address: string; slots: number; pid: number; tasks: unknown[] }[]>('GET', '/workers')).body;
    expect(workers).toHaveLength(2);
    for (const w of workers) {
      expect(w.address).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
      expect(w.slots).toBe(4);
      expect(cluster.workers.map((p) => p.child.pid)).toContain(w.pid);
      expect(Array.isArray(w.tasks)).toBe(true);
    }
    const jobs = (await cluster.api.call<{ id: string; state: string }[]>('GET', '/jobs')).body;
    expect(jobs.length).toBeGreaterThan(0);
  });

  it('refuses a request without the token, or with a wrong one, and logs it', async () => {
    const job = writeJob('tiny.ts', `import { StreamingContext } from 'mobius';\nconst ctx = StreamingContext.builder().build();\nctx.fromValues(1, 2, 3).sink(() => {});\nawait ctx.execute('tiny');\n`);
    const noToken = await run(process.execPath, [clusterCli, 'submit', job, '--url', cluster.url], { env: { MOBIUS_TOKEN: '' } });
    expect(noToken.code).toBe(1);
    expect(noToken.stderr).toMatch(/401.*missing or wrong token/);
    expect((await cluster.api.call('POST', '/jobs', { bundle: 'x' }, 'wrong-token')).status).toBe(401);
    expect((await fetch(new URL('/jobs', cluster.url))).status).toBe(401);
    expect(cluster.coordinator.stderr).toMatch(/http request refused/);
  });

  it('refuses a job whose graph hash differs between the coordinator and a worker', async () => {
    // The operator name depends on the process: every process that imports the module builds a different graph.
    const job = writeJob('unstable.ts', `import { StreamingContext } from 'mobius';\nconst ctx = StreamingContext.builder().build();\nctx.fromValues(1, 2, 3).map((x: number) => x).name('map-in-' + process.pid).sink(() => {});\nawait ctx.execute('unstable');\n`);
    const submit = await run(process.execPath, [clusterCli, 'submit', job, '--wait', '--url', cluster.url, '--token', cluster.token]);
    expect(submit.code).toBe(1);
    expect(submit.stderr).toMatch(/graph hash differs/);
  });

  it("passes the job's own arguments (after --) to the module in every process, not the cluster command's", async () => {
    const job = writeJob(
      'args.ts',
      `import { StreamingContext } from 'mobius';\nconst ctx = StreamingContext.builder().build();\nctx.fromValues(1, 2).map((x: number) => x).name('args:' + process.argv.slice(2).join(',')).sink(() => {});\nawait ctx.execute('args');\n`,
    );
    const submit = await run(process.execPath, [clusterCli, 'submit', job, '--wait', '--url', cluster.url, '--token', cluster.token, '--', 'alpha', '--beta']);
    expect(submit.stderr).toBe('');
    expect(submit.code).toBe(0);
    const details = (await cluster.api.call<{ plan: { operators: { name: string }[] } }>('GET', `/jobs/${submit.stdout.trim()}`)).body;
    expect(details.plan.operators.map((o) => o.name)).toContain('args:alpha,--beta');
  });

  it('rejects garbage bytes on the coordinator HTTP and control ports and on a worker data port, and keeps working', async () => {
    const garbage = randomBytes(4096);
    const httpPort = portOf(cluster.url.replace(/\/$/, ''));
    await sendGarbage('127.0.0.1', httpPort, garbage);
    await sendGarbage('127.0.0.1', httpPort, Buffer.from('GET / HTTP/1.1\r\nHost: x\r\nContent-Length: banana\r\n\r\n'));
    await sendGarbage('127.0.0.1', portOf(cluster.control), garbage);
    const workers = (await cluster.api.call<{ address: string }[]>('GET', '/workers')).body;
    await sendGarbage('127.0.0.1', portOf(workers[0].address), garbage);
    await sendGarbage('127.0.0.1', portOf(workers[1].address), Buffer.concat([Buffer.from([0xff, 0, 0, 0, 0, 0, 0, 0, 1, 0x7f]), garbage]));
    const out = join(tmp.dir, 'after-garbage');
    const job = writeJob('word-count.ts', wordCountJob(corpusPath, out, 2));
    const submit = await run(process.execPath, [clusterCli, 'submit', job, '--url', cluster.url, '--token', cluster.token]);
    expect(submit.code).toBe(0);
    const done = await cluster.api.waitForJob(submit.stdout.trim(), (j) => j.state !== 'RUNNING' && j.state !== 'CREATED', 60_000);
    expect(done.state).toBe('FINISHED');
    expect(sortedEntries(readCounts(out))).toEqual(reference);
    for (const p of [cluster.coordinator, ...cluster.workers]) expect(p.child.exitCode).toBeNull();
  });
});

describe('a lost worker', () => {
  let cluster: Cluster;
  beforeAll(async () => {
    cluster = await startCluster(2, { heartbeatTimeoutMs: 2000 });
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('a worker killed with SIGKILL fails its job within the heartbeat timeout, naming the worker; the rest stays up and takes the next job', async () => {
    const unbounded = writeJob(
      'unbounded.ts',
      `import { StreamingContext } from 'mobius';\nconst ctx = StreamingContext.builder().option('parallelism.default', 2).build();\nctx.source<number>({ fetch(sc) { for (let i = 0; i < 100; i++) sc.collect(i); } }).keyBy((x: number) => x % 7).reduce((a: number, b: number) => a + b).sink(() => {});\nawait ctx.execute('unbounded');\n`,
    );
    const submit = await run(process.execPath, [clusterCli, 'submit', unbounded, '--url', cluster.url, '--token', cluster.token]);
    expect(submit.code).toBe(0);
    const id = submit.stdout.trim();
    const running = await cluster.api.waitForJob(id, (j) => j.state === 'RUNNING' && j.tasks.every((t) => t.state === 'RUNNING' && t.recordsIn > 0));
    const workers = (await cluster.api.call<{ id: string; pid: number }[]>('GET', '/workers')).body;
    const victim = workers.find((w) => running.tasks.some((t) => t.workerId === w.id))!;
    const killedAt = Date.now();
    process.kill(victim.pid, 'SIGKILL');
    const failed = await cluster.api.waitForJob(id, (j) => j.state === 'FAILED', 10_000);
    const detectedMs = Date.now() - killedAt;
    console.log(`lost worker detected after ${detectedMs} ms (heartbeat timeout 2000 ms)`);
    expect(failed.error).toContain(victim.id);
    expect(failed.error).toMatch(/lost: (no heartbeat|its connection closed and its process is gone)/);
    expect(detectedMs).toBeLessThan(2000);

    const remaining = await cluster.api.waitForWorkers(1);
    expect(remaining[0].id).not.toBe(victim.id);
    expect(cluster.coordinator.child.exitCode).toBeNull();
    const small = writeJob('small.ts', `import { StreamingContext } from 'mobius';\nconst ctx = StreamingContext.builder().build();\nctx.fromValues('a', 'b', 'c').keyBy((x: string) => x).reduce((a: string, b: string) => a + b).sink(() => {});\nawait ctx.execute('small');\n`);
    const next = await run(process.execPath, [clusterCli, 'submit', small, '--wait', '--url', cluster.url, '--token', cluster.token]);
    expect(next.stderr).toBe('');
    expect(next.code).toBe(0);
  });
});

describe('mobius-cluster local', () => {
  it('starts a coordinator and N supervised workers, restarts a killed worker, and stops everything on SIGTERM', async () => {
    const { start, waitForLine, Api } = await import('./cluster-helpers.js');
    const local = start(['local', '--workers', '2', '--port', '0', '--http-port', '0', '--token', 't0k3n']);
    const [, url] = await waitForLine(local, /Mobius cluster ready: (\S+)/, 60_000);
    const api = new Api(url, 't0k3n');
    const workers = await api.waitForWorkers(2);
    process.kill(workers[0].pid, 'SIGKILL');
    // The coordinator drops the dead worker after its heartbeat timeout; the supervisor has started a new one.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const now = (await api.call<{ pid: number }[]>('GET', '/workers')).body;
      if (now.length === 2 && !now.some((w) => w.pid === workers[0].pid)) break;
      if (Date.now() > deadline) throw new Error(`the killed worker was not replaced: ${JSON.stringify(now)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    local.child.kill('SIGTERM');
    const exit = await local.exited;
    expect(exit.code).toBe(0);
    const after = await fetch(new URL('/health', url)).then(
      () => 'up',
      () => 'down',
    );
    expect(after).toBe('down');
  });
});

void repoRoot;

describe('CURVE-encrypted data channels', () => {
  it('workers with a shared key pair (--curve-keys) run the word count with exact counts; records crossed workers; a plaintext peer is refused', async () => {
    const tmp = tempDir('mobius-curve-');
    const keys = await run(process.execPath, [clusterCli, 'keygen']);
    expect(keys.code).toBe(0);
    const pair = JSON.parse(keys.stdout) as { publicKey: string; secretKey: string };
    expect(pair.publicKey).toHaveLength(40);
    const keyFile = tmp.file('curve.json', keys.stdout);
    const cluster = await startCluster(2, { curveKeys: keyFile });
    try {
      const out = join(tmp.dir, 'out');
      const job = writeJob('word-count.ts', crossingWordCountJob(corpusPath, out));
      const submit = await run(process.execPath, [clusterCli, 'submit', job, '--wait', '--url', cluster.url, '--token', cluster.token], { timeoutMs: 120_000 });
      expect(submit.stderr).toBe('');
      expect(submit.code).toBe(0);
      expect(sortedEntries(readCounts(out))).toEqual(sortedEntries(referenceCounts(readText(corpusPath))));

      // Placement: the two reduce tasks on different workers, so keyed records must cross.
      const details = (await cluster.api.call<JobDetails & { plan: { channels: { sourceTask: string; targetTask: string }[] } }>('GET', `/jobs/${submit.stdout.trim()}`)).body;
      const workerOf = new Map(details.tasks.map((t) => [`${t.vertex}#${t.index}`, t.workerId]));
      const reduceWorkers = details.tasks.filter((t) => t.vertex === 'reduce-4').map((t) => t.workerId);
      expect(new Set(reduceWorkers).size).toBe(2);
      const crossChannels = details.plan.channels.filter((c) => workerOf.get(c.sourceTask) !== workerOf.get(c.targetTask));
      expect(crossChannels.length).toBeGreaterThan(0);
      // And they did: each reduce task counted the records it got from a map in another process
      // (the map tags each record with its pid; the job writes <out>-crossed/<pid>-<task>).
      const crossed = readdirSync(`${out}-crossed`).map((f) => Number(readFileSync(join(`${out}-crossed`, f), 'utf8')));
      expect(crossed).toHaveLength(2);
      for (const n of crossed) expect(n).toBeGreaterThan(0);

      // The data port speaks CURVE only: its greeting names the mechanism, and a peer offering
      // NULL (plaintext) is dropped without a READY, so it can neither send nor read frames.
      const worker = (await cluster.api.call<{ address: string }[]>('GET', '/workers')).body[0];
      const plain = RawZmtp.fromEndpoint(worker.address);
      try {
        // The signature and major version first: libzmq then sends its whole greeting, and
        // closes as soon as it reads a mechanism that is not its own.
        const ours = greeting({ mechanism: 'NULL' });
        await plain.write(ours.subarray(0, 11));
        const theirs = await plain.bytes(64);
        await plain.write(Buffer.concat([ours.subarray(11), dealerReady('plaintext-peer')]));
        expect(theirs, 'the worker sent no greeting').toBeDefined();
        expect(parseGreeting(theirs!).mechanism).toBe('CURVE');
        await plain.closed;
        // Nothing beyond the greeting, or at most a ZMTP ERROR command: never a READY.
        expect(plain.received.subarray(64).includes(Buffer.from('READY'))).toBe(false);
      } finally {
        plain.destroy();
      }
    } finally {
      await cluster.stop();
      tmp.remove();
    }
  });
});

/**
 * The word count of wordCountJob at parallelism 2, whose map tags each pair with its process id;
 * each reduce task counts the records that came from a map in another process and its sink
 * writes that count to <outDir>-crossed/<pid>-<task>.
 */
function crossingWordCountJob(input: string, outDir: string): string {
  return `
import { mkdirSync, writeFileSync } from 'node:fs';
import { StreamingContext, type RuntimeContext, type SinkFunction } from 'mobius';

type Tagged = [string, number, number];
let crossed = 0;

class CountsFile implements SinkFunction<Tagged> {
  private counts = new Map<string, number>();
  private index = 0;
  open(ctx: RuntimeContext): void {
    this.counts = new Map();
    this.index = ctx.taskIndex;
  }
  sink(t: Tagged): void {
    if ((this.counts.get(t[0]) ?? 0) < t[1]) this.counts.set(t[0], t[1]);
  }
  close(): void {
    mkdirSync(${JSON.stringify(outDir)}, { recursive: true });
    writeFileSync(${JSON.stringify(outDir)} + '/part-' + this.index + '-' + process.pid, [...this.counts].map(([w, c]) => w + '\\t' + c).join('\\n'));
    mkdirSync(${JSON.stringify(outDir + '-crossed')}, { recursive: true });
    writeFileSync(${JSON.stringify(outDir + '-crossed')} + '/' + process.pid + '-' + this.index, String(crossed));
  }
}

const ctx = StreamingContext.builder().option('parallelism.default', 2).build();
ctx
  .readTextFile(${JSON.stringify(input)})
  .flatMap((line: string) => line.split(/\\s+/).filter((w) => w.length > 0))
  .map((w: string): Tagged => [w, 1, process.pid])
  .keyBy((t) => t[0])
  .reduce((a, b): Tagged => {
    if (b[2] !== process.pid) crossed++;
    return [a[0], a[1] + b[1], process.pid];
  })
  .filter((t) => !t[0].includes('ray'))
  .sink(new CountsFile());
await ctx.execute('curve_word_count');
`;
}
