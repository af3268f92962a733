import { connect } from 'node:net';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusPath, mobiusCli, readText, referenceCounts, repoRoot, run, sortedEntries, tempDir } from './helpers.js';
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
  it('workers with a shared key pair (--curve-keys) run the word count with exact counts', async () => {
    const tmp = tempDir('mobius-curve-');
    const keys = await run(process.execPath, [clusterCli, 'keygen']);
    expect(keys.code).toBe(0);
    const pair = JSON.parse(keys.stdout) as { publicKey: string; secretKey: string };
    expect(pair.publicKey).toHaveLength(40);
    const keyFile = tmp.file('curve.json', keys.stdout);
    const cluster = await startCluster(2, { curveKeys: keyFile });
    try {
      const out = join(tmp.dir, 'out');
      const job = writeJob('word-count.ts', wordCountJob(corpusPath, out, 2));
      const submit = await run(process.execPath, [clusterCli, 'submit', job, '--wait', '--url', cluster.url, '--token', cluster.token], { timeoutMs: 120_000 });
      expect(submit.code).toBe(0);
      expect(sortedEntries(readCounts(out))).toEqual(sortedEntries(referenceCounts(readText(corpusPath))));
    } finally {
      await cluster.stop();
      tmp.remove();
    }
  });
});
