import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exactlyOnceViolations } from './checkpoint-helpers.js';
import { clusterCli, writeJob, type JobDetails } from './cluster-helpers.js';
import { pacedWordCountJob } from './failover-helpers.js';
import { referenceCounts, run, tempDir } from './helpers.js';
import { heartbeatsSince, lostWorkerLines, startLimitedCluster } from './user-code-cluster.js';

type Cluster = Awaited<ReturnType<typeof startLimitedCluster>>;
interface ErrorBody {
  error: { code: string; message: string };
}

const PLAN_TIMEOUT_MS = 8000;
const MAX_BODY = 4 * 1024 * 1024;

/** Job bundles (plain ESM, as `submit` sends them) whose code fails while the module is imported. */
const BAD_JOBS = {
  exits: `process.stderr.write('usage: job <input>: no input given\\n');\nprocess.exit(2);\n`,
  hangs: `await new Promise(() => undefined);\n`,
  loops: `let n = 0;\nfor (;;) n++;\n`,
  allocates: `const keep = [];\nfor (let i = 0; i < 1_000_000; i++) keep.push(new Array(1000).fill(i));\nconsole.log(keep.length);\n`,
  throws: `throw new Error('the job refuses: ' + process.argv.slice(2).join(' '));\n`,
};

describe('user code never runs in the coordinator', { timeout: 240_000 }, () => {
  const tmp = tempDir('mobius-user-code-');
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startLimitedCluster(['--plan-timeout-ms', String(PLAN_TIMEOUT_MS), '--plan-max-heap-mb', '128', '--http-max-body-bytes', String(MAX_BODY)]);
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
    tmp.remove();
  });

  it('an exit, a hang, an endless loop, a 200 MB allocation and a throw each fail their own submission while another job runs to exact results', async () => {
    const words = ['alpha', 'beta', 'gamma', 'delta', 'array', 'epsilon'];
    const lines = Array.from({ length: 400 }, (_, i) => Array.from({ length: 1 + (i % 5) }, (_, j) => words[(i * 7 + j * 3) % words.length]).join(' '));
    const input = tmp.file('input.txt', lines.join('\n'));
    const out = join(tmp.dir, 'out');
    // Submitted as a user would (the CLI bundles it); paced, so it runs while the others are planned.
    const options = { 'checkpoint.interval.ms': 300, 'checkpoint.dir': join(tmp.dir, 'ckpt') };
    const submitted = await run(process.execPath, [clusterCli, 'submit', writeJob('paced.ts', pacedWordCountJob(input, out, options, { lines: 2, everyMs: 50 })), '--url', cluster.url, '--token', cluster.token], { timeoutMs: 120_000 });
    expect(submitted.stderr).toBe('');
    expect(submitted.code).toBe(0);
    const good = { body: { id: submitted.stdout.trim() } };

    const submit = async (name: keyof typeof BAD_JOBS) => {
      const sent = Date.now();
      const res = await cluster.api.call<ErrorBody>('POST', '/jobs', { bundle: BAD_JOBS[name], args: ['--bad'] });
      // Each answer comes while the good job is still running (it is paced over several seconds).
      const state = (await cluster.api.call<JobDetails>('GET', `/jobs/${good.body.id}`)).body.state;
      return { ...res, goodState: state, elapsed: Date.now() - sent };
    };
    const started = Date.now();
    const [exits, hangs, loops, allocates, throws] = await Promise.all((Object.keys(BAD_JOBS) as (keyof typeof BAD_JOBS)[]).map(submit));

    expect(exits.status).toBe(400);
    expect(exits.body.error.code).toBe('JOB_EXITED');
    expect(exits.body.error.message).toContain('exited with code 2');
    expect(exits.body.error.message).toContain('usage: job <input>: no input given');
    expect(exits.goodState).toBe('RUNNING');
    // Planned concurrently: the jobs that fail at once are answered before the hanging ones time out.
    expect(exits.elapsed).toBeLessThan(PLAN_TIMEOUT_MS);
    expect(throws.elapsed).toBeLessThan(PLAN_TIMEOUT_MS);

    for (const timedOut of [hangs, loops]) {
      expect(timedOut.status).toBe(400);
      expect(timedOut.body.error.code).toBe('PLAN_TIMEOUT');
      expect(timedOut.body.error.message).toContain(`job.plan.timeout.ms (${PLAN_TIMEOUT_MS} ms)`);
    }
    // Both hanging jobs timed out side by side, not one after the other.
    expect(Date.now() - started).toBeLessThan(2 * PLAN_TIMEOUT_MS + 20_000);

    expect(allocates.status).toBe(400);
    expect(allocates.body.error.code).toBe('JOB_EXITED');
    expect(allocates.body.error.message).toMatch(/heap out of memory|Allocation failed/i);

    expect(throws.status).toBe(400);
    expect(throws.body.error.code).toBe('INVALID_JOB');
    expect(throws.body.error.message).toContain('the job refuses: --bad');

    const done = await cluster.api.waitForJob(good.body.id, (j) => j.state === 'FINISHED' || j.state === 'FAILED', 120_000);
    expect(done.state).toBe('FINISHED');
    expect(exactlyOnceViolations(out, referenceCounts(lines.join('\n')))).toEqual([]);

    // Nothing else happened to the cluster: the coordinator lives, no worker was declared lost.
    expect(cluster.coordinator.child.exitCode).toBeNull();
    expect(lostWorkerLines(cluster.coordinator)).toEqual([]);
    await heartbeatsSince(cluster.api, cluster.registered.map((w) => w.id), Date.now() - 1000);
    expect((await cluster.api.call<unknown[]>('GET', '/jobs')).body).toHaveLength(1);
  });

  it('heartbeats keep flowing while a large valid bundle is submitted; an oversize body is a 413 that echoes nothing', async () => {
    const blob = 'mobius-large-bundle-'.repeat(Math.floor((3 * 1024 * 1024) / 20));
    const source = `import { StreamingContext } from 'mobius';\nconst blob = ${JSON.stringify(blob)};\nconst ctx = StreamingContext.builder().build();\nctx.fromValues(blob.length).map((n) => n).sink(() => undefined);\nawait ctx.execute('large_bundle');\n`;
    const bundle = source;
    expect(bundle.length).toBeGreaterThan(3 * 1024 * 1024);
    const before = Date.now();
    const large = await cluster.api.call<{ id: string }>('POST', '/jobs', { bundle });
    expect(large.status).toBe(201);
    await heartbeatsSince(cluster.api, cluster.registered.map((w) => w.id), before);
    expect((await cluster.api.waitForJob(large.body.id, (j) => j.state === 'FINISHED' || j.state === 'FAILED', 120_000)).state).toBe('FINISHED');

    const marker = 'DO-NOT-ECHO-';
    const huge = JSON.stringify({ bundle: marker.repeat(Math.ceil((50 * 1024 * 1024) / marker.length)) });
    const res = await fetch(new URL('/jobs', cluster.url), { method: 'POST', headers: { authorization: `Bearer ${cluster.token}`, 'content-type': 'application/json' }, body: huge });
    const text = await res.text();
    expect(res.status).toBe(413);
    expect(text).not.toContain(marker);
    expect(text.length).toBeLessThan(500);
    expect((JSON.parse(text) as ErrorBody).error.code).toBe('BODY_TOO_LARGE');

    expect(lostWorkerLines(cluster.coordinator)).toEqual([]);
    await heartbeatsSince(cluster.api, cluster.registered.map((w) => w.id), Date.now() - 1000);
  });
});

