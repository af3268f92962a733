import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfigMap, Determinant, RestoreHandles } from '@mobius/interface';
import { FsCheckpointStore } from '@mobius/failover';
import { SlotScheduler } from '@mobius/scheduler';
import { afterEach, describe, expect, it } from 'vitest';
import { JobMaster, type JobEnd } from './job-master.js';
import { MemoryJobStore } from './job-store.js';
import { FakeGateway, RecordingLogger, testPlan } from './test-fixtures.js';

const ALL = ['map#0', 'map#1', 'sink#0', 'source#0', 'source#1'];
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

interface Harness {
  readonly jm: JobMaster;
  readonly gateway: FakeGateway;
  readonly logger: RecordingLogger;
  readonly scheduler: SlotScheduler;
  readonly jobStore: MemoryJobStore;
  readonly ended: Promise<JobEnd>;
  /** Resolves once `cond()` holds, re-checked on every log line. */
  until(cond: () => boolean): Promise<void>;
}

interface HarnessOptions {
  readonly checkpoints?: boolean;
  /** Scripts the gateway before the job starts; the harness then does not wait for RUNNING tasks. */
  readonly script?: (gateway: FakeGateway) => void;
  /** What the job starts from (a savepoint's handles). */
  readonly restore?: RestoreHandles;
}

async function harness(config: ConfigMap = {}, options: HarnessOptions = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'mobius-jm-'));
  dirs.push(dir);
  const store = new FsCheckpointStore({ directory: dir });
  const scheduler = new SlotScheduler();
  scheduler.registerWorker({ id: 'w1', endpoint: 'tcp://w1', slots: 4 });
  scheduler.registerWorker({ id: 'w2', endpoint: 'tcp://w2', slots: 4 });
  const logger = new RecordingLogger();
  const gateway = new FakeGateway('job-1', store);
  const jobStore = new MemoryJobStore();
  const plan = testPlan({ 'checkpoint.interval.ms': 60_000, 'checkpoint.timeout.ms': 10_000, 'restart.delay.ms': 0, 'restart.exponential.initial-backoff.ms': 0, ...config });
  const jm = new JobMaster({
    jobId: 'job-1',
    name: 'test',
    plan,
    gateway,
    scheduler,
    logger,
    checkpoints: options.checkpoints === false ? undefined : { store, dir, retained: 2 },
    jobStore,
    slotWaitMs: 200,
    restore: options.restore,
  });
  gateway.listener = jm;
  const ended = new Promise<JobEnd>((resolve) => jm.onEnded(resolve));
  const until = async (cond: () => boolean): Promise<void> => {
    while (!cond()) await Promise.race([logger.next('', logger.entries.length), gateway.changed()]);
  };
  options.script?.(gateway);
  await jm.start();
  if (options.script === undefined) await until(() => [...jm.tasks.values()].every((t) => t.state === 'RUNNING'));
  return { jm, gateway, logger, scheduler, jobStore, ended, until };
}

/** `n` recoveries ended and the job runs checkpoints again. */
const recovered = (h: Harness, n: number): Promise<void> =>
  h.until(() => h.jm.recoveryEvents().filter((e) => e.durationMs !== null).length >= n && h.jm.checkpointing!.current !== undefined && !h.jm.restarting);

describe('JobMaster: deployment, checkpoints, end', () => {
  it('deploys every task once per worker, completes checkpoints, finishes when every task finished', async () => {
    const h = await harness();
    const deployments = h.gateway.deployments();
    expect(deployments.flatMap((d) => d.tasks.map((t) => t.taskId)).sort()).toEqual(ALL);
    expect(new Set(deployments.map((d) => d.workerId)).size).toBe(deployments.length);
    for (const d of deployments) expect(Object.keys(d.endpoints).sort()).toEqual(ALL);
    expect(h.jm.state).toBe('RUNNING');

    const metadata = await h.jm.checkpointing!.current!.triggerCheckpoint();
    expect(Object.keys(metadata.tasks).sort()).toEqual(ALL);
    await h.until(() => h.gateway.calls.filter((c) => c.op === 'complete').length === 2);
    // Checkpoint ids are leased durably before they are used.
    expect(h.jobStore.load('job-1')!.reservedCheckpointId).toBeGreaterThan(metadata.checkpointId);

    h.gateway.finishAll();
    await expect(h.ended).resolves.toEqual({ state: 'FINISHED', error: undefined, cause: undefined });
    expect(h.jobStore.load('job-1')!.state).toBe('FINISHED');
    expect(h.jm.recoveryEvents()).toEqual([]);
  });

  it('aborts a checkpoint a task does not acknowledge within checkpoint.timeout.ms, and the next one completes', async () => {
    const h = await harness({ 'checkpoint.timeout.ms': 100 });
    h.gateway.silent.add('map#1');
    await expect(h.jm.checkpointing!.current!.triggerCheckpoint()).rejects.toThrow();
    expect(h.gateway.calls.filter((c) => c.op === 'aborted').length).toBeGreaterThan(0);
    h.gateway.silent.clear();
    const next = await h.jm.checkpointing!.current!.triggerCheckpoint();
    expect(next.checkpointId).toBe(2);
    expect(h.jm.state).toBe('RUNNING');
  });

  it('a job started from a savepoint numbers its checkpoints after the savepoint\'s id (its restored tasks skip barriers up to it)', async () => {
    const h = await harness({}, { restore: { dir: '/nowhere', handles: [], checkpointId: 41 } });
    const metadata = await h.jm.checkpointing!.current!.triggerCheckpoint();
    expect(metadata.checkpointId).toBe(42);
    expect(h.gateway.deployments().every((d) => d.restore?.checkpointId === 41)).toBe(true);
  });

  it('without checkpoints a task failure fails the job', async () => {
    const h = await harness({ 'checkpoint.interval.ms': 0 }, { checkpoints: false });
    h.gateway.fail('map#0', 'boom');
    await expect(h.ended).resolves.toMatchObject({ state: 'FAILED', error: 'boom' });
    expect(h.gateway.calls.some((c) => c.op === 'cancel')).toBe(true);
  });
});

describe('JobMaster: recoveries', () => {
  it('single-task: only the failed task is redeployed, with its own restore handles and determinants; neighbours are rewired', async () => {
    const h = await harness();
    const checkpoint = await h.jm.checkpointing!.current!.triggerCheckpoint();
    const log: Determinant[] = [{ n: 0, kind: 'order', input: 1, count: 3, value: 0 } as Determinant];
    h.gateway.determinants = log;
    const before = h.gateway.deployments().length;
    h.gateway.fail('map#1', 'map#1 broke');
    await recovered(h, 1);

    const events = h.jm.recoveryEvents();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ kind: 'recovery', strategy: 'single-task', tasks: ['map#1'], failed: ['map#1'], checkpointId: checkpoint.checkpointId });
    expect(events[0].reason).toContain('map#1 broke');
    expect(events[0].durationMs).toBeGreaterThanOrEqual(0);

    const redeployed = h.gateway.deployments().slice(before);
    expect(redeployed).toHaveLength(1);
    expect(redeployed[0].tasks).toEqual([{ taskId: 'map#1', attempt: 1, determinants: log }]);
    expect(redeployed[0].restore!.handles).toEqual([checkpoint.tasks['map#1']]);
    expect(redeployed[0].attempts['map#1']).toBe(1);
    expect(redeployed[0].attempts['map#0']).toBe(0);
    expect(redeployed[0].staleCheckpointsThrough).toBeGreaterThanOrEqual(checkpoint.checkpointId);
    // Determinants come from the downstream holder (the sink's worker); every live worker is rewired.
    expect(h.gateway.calls.some((c) => c.op === 'determinants' && c.taskId === 'map#1')).toBe(true);
    const rewires = h.gateway.calls.filter((c) => c.op === 'rewire');
    expect(rewires.length).toBeGreaterThan(0);
    for (const r of rewires) expect(Object.keys(r.op === 'rewire' ? r.restarted : {})).toEqual(['map#1']);
    expect(h.jm.tasks.get('map#0')!.attempt).toBe(0);
    expect(h.jm.restarts).toBe(1);
    expect(h.jm.state).toBe('RUNNING');
  });

  it('region: an unreplayable channel into the failed task widens the rollback to its upstream, which is cancelled with a fence', async () => {
    const h = await harness();
    await h.jm.checkpointing!.current!.triggerCheckpoint();
    h.gateway.unreplayable = ['source->map:0->1'];
    h.gateway.fail('map#1');
    await recovered(h, 1);
    const [event] = h.jm.recoveryEvents();
    expect(event.strategy).toBe('region');
    expect(event.tasks).toEqual(['map#1', 'source#0']);
    expect(event.reason).toContain('source->map:0->1');
    const fence = h.gateway.calls.find((c) => c.op === 'cancel' && c.which?.tasks?.includes('source#0'));
    expect(fence).toMatchObject({ which: { tasks: ['source#0'], before: { 'source#0': 1 } } });
    expect(h.jm.tasks.get('source#0')!.attempt).toBe(1);
    expect(h.jm.tasks.get('source#1')!.attempt).toBe(0);
  });

  it('global by configuration: every task is redeployed from the latest checkpoint', async () => {
    const h = await harness({ 'failover.strategy': 'global' });
    const checkpoint = await h.jm.checkpointing!.current!.triggerCheckpoint();
    const before = h.gateway.deployments().length;
    h.gateway.fail('sink#0');
    await recovered(h, 1);
    const [event] = h.jm.recoveryEvents();
    expect(event).toMatchObject({ strategy: 'global', tasks: ALL, failed: ['sink#0'], checkpointId: checkpoint.checkpointId });
    const redeployed = h.gateway.deployments().slice(before);
    expect(redeployed.flatMap((d) => d.tasks.map((t) => `${t.taskId}@${t.attempt}`)).sort()).toEqual(ALL.map((t) => `${t}@1`));
    expect([...redeployed[0].restore!.handles].sort()).toEqual(Object.values(checkpoint.tasks).sort());
  });

  it('falls back to a global restore when the single-task deployment fails', async () => {
    const h = await harness();
    await h.jm.checkpointing!.current!.triggerCheckpoint();
    h.gateway.refuse.add('map#0');
    h.gateway.fail('map#0');
    await recovered(h, 2);
    const [first, second] = h.jm.recoveryEvents();
    expect(first).toMatchObject({ kind: 'recovery-failed', strategy: 'single-task', tasks: ['map#0'] });
    expect(first.reason).toContain('restoring globally');
    expect(second).toMatchObject({ kind: 'recovery', strategy: 'global', failed: ['map#0'] });
    expect([...second.tasks].sort()).toEqual(ALL);
    expect([...h.jm.tasks.values()].every((t) => t.attempt === 2 && t.state === 'RUNNING')).toBe(true);
  });

  it('a task failing again during its recovery is recovered globally', async () => {
    const h = await harness();
    await h.jm.checkpointing!.current!.triggerCheckpoint();
    h.gateway.quiet.add('map#0');
    h.gateway.fail('map#0');
    await h.until(() => h.gateway.calls.some((c) => c.op === 'rewire'));
    // The new attempt has not reported in when its worker goes.
    h.gateway.quiet.clear();
    h.jm.taskFailed(['map#0'], 'the worker of map#0 died');
    await recovered(h, 2);
    const [first, second] = h.jm.recoveryEvents();
    expect(first).toMatchObject({ kind: 'recovery-failed', strategy: 'single-task' });
    expect(second.strategy).toBe('global');
    expect(second.reason).toContain('failed again while it was being recovered');
  });

  it('stacked failures: a second failure 50 ms after a recovery, before a checkpoint completed, is recovered globally', async () => {
    const h = await harness();
    await h.jm.checkpointing!.current!.triggerCheckpoint();
    h.gateway.fail('map#0');
    await recovered(h, 1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    h.gateway.fail('map#1');
    await recovered(h, 2);
    const [first, second] = h.jm.recoveryEvents();
    expect(first.strategy).toBe('single-task');
    expect(second.strategy).toBe('global');
    expect(second.failed).toEqual(['map#1']);
    expect(second.reason).toContain('after an earlier recovery');
  });

  it('a failure after a checkpoint completed since the last recovery is single-task again', async () => {
    const h = await harness();
    h.gateway.fail('map#0');
    await recovered(h, 1);
    await h.jm.checkpointing!.current!.triggerCheckpoint();
    h.gateway.fail('map#1');
    await recovered(h, 2);
    expect(h.jm.recoveryEvents().map((e) => e.strategy)).toEqual(['single-task', 'single-task']);
  });

  it('a newest checkpoint that cannot be restored makes the recovery global (replay reaches back only to it)', async () => {
    const h = await harness();
    const first = await h.jm.checkpointing!.current!.triggerCheckpoint();
    const second = await h.jm.checkpointing!.current!.triggerCheckpoint();
    // The newest checkpoint's metadata disappears (as if it were corrupt): latestValid is the first.
    await h.jm.checkpointing!.store.discard('job-1', second.checkpointId);
    h.gateway.fail('map#0');
    await recovered(h, 1);
    const [event] = h.jm.recoveryEvents();
    expect(event.strategy).toBe('global');
    expect(event.checkpointId).toBe(first.checkpointId);
    expect(event.reason).toContain(`checkpoint ${second.checkpointId} cannot be restored`);
  });

  it('fixed-delay: fails the job once a task used restart.max-attempts recoveries (other tasks count apart)', async () => {
    const h = await harness({ 'restart.strategy': 'fixed-delay', 'restart.max-attempts': 1 });
    h.gateway.fail('map#0');
    await recovered(h, 1);
    await h.jm.checkpointing!.current!.triggerCheckpoint();
    h.gateway.fail('map#1');
    await recovered(h, 2);
    await h.jm.checkpointing!.current!.triggerCheckpoint();
    h.gateway.fail('map#1', 'map#1 broke');
    const end = await h.ended;
    expect(end.state).toBe('FAILED');
    expect(end.error).toBe('map#1 broke (restart.max-attempts 1 reached for task map#1)');
    expect(h.jm.state).toBe('FAILED');
    expect(h.jobStore.load('job-1')!.state).toBe('FAILED');
  });

  it('a cancel during a recovery ends the job CANCELED and the recovery as failed', async () => {
    const h = await harness();
    await h.jm.checkpointing!.current!.triggerCheckpoint();
    h.gateway.hold.add('map#0');
    h.gateway.fail('map#0');
    await h.until(() => h.gateway.deployments().some((d) => d.tasks.some((t) => t.taskId === 'map#0' && t.attempt === 1)));
    h.jm.cancel();
    h.gateway.releaseHeld();
    const end = await h.ended;
    expect(end.state).toBe('CANCELED');
    const [event] = h.jm.recoveryEvents();
    expect(event.kind).toBe('recovery-failed');
    expect(event.reason).toContain('cancelled');
    expect(h.gateway.running.size).toBe(0);
  });

  it('a lost worker: its tasks wait for a new worker with free slots and are recovered there', async () => {
    const h = await harness();
    await h.jm.checkpointing!.current!.triggerCheckpoint();
    const onW1 = [...h.jm.tasks.values()].filter((t) => t.workerId === 'w1').map((t) => t.taskId);
    h.scheduler.removeWorker('w1');
    for (const id of onW1) h.gateway.running.delete(id);
    h.jm.taskFailed(onW1, 'worker w1 lost');
    await h.logger.next('recovery: waiting for workers with free slots');
    h.scheduler.registerWorker({ id: 'w3', endpoint: 'tcp://w3', slots: 4 });
    h.jm.slotsFreed();
    await recovered(h, 1);
    for (const id of onW1) expect(h.jm.tasks.get(id)!.workerId).not.toBe('w1');
    const [event] = h.jm.recoveryEvents();
    expect(event.strategy).toBe('single-task');
    expect([...event.failed].sort()).toEqual([...onW1].sort());
    expect(h.gateway.calls.filter((c) => c.op === 'rewire').map((c) => c.workerId).sort()).toEqual(['w2', 'w3']);
  });

  it('exponential-delay (the default): no lifetime cap, and a single-task recovery waits the failed task\'s backoff', async () => {
    const h = await harness({ 'restart.exponential.initial-backoff.ms': 150, 'restart.exponential.jitter-factor': 0 });
    for (let i = 1; i <= 5; i++) {
      await h.jm.checkpointing!.current!.triggerCheckpoint();
      const failedAt = Date.now();
      h.gateway.fail(i % 2 === 0 ? 'map#0' : 'map#1');
      await recovered(h, i);
      // map#1's third failure waits 150 × 1.5 × 1.5 ms; each first one at least 150 ms.
      expect(Date.now() - failedAt).toBeGreaterThanOrEqual(i === 5 ? 330 : 145);
    }
    expect(h.jm.recoveryEvents().map((e) => e.strategy)).toEqual(Array(5).fill('single-task'));
    expect(h.jm.state).toBe('RUNNING');
    expect(h.jm.restarts).toBe(5);
  });
});

describe('JobMaster: a deployment is all or nothing', () => {
  const cancelsOf = (h: Harness): { workerId: string; before?: Readonly<Record<string, number>> }[] =>
    h.gateway.calls.flatMap((c) => (c.op === 'cancel' ? [{ workerId: c.workerId, before: c.which?.before }] : []));

  it('a worker refusing its tasks: the tasks started on the other worker are cancelled at once, fenced by attempt, and the job fails', async () => {
    const h = await harness({}, {
      script: (g) => {
        // The sink's worker refuses; the other deployments stay unanswered (held) meanwhile.
        g.refuse.add('sink#0');
        for (const id of ALL) if (id !== 'sink#0') g.hold.add(id);
      },
    });
    const end = await h.ended;
    expect(end.state).toBe('FAILED');
    expect(end.error).toMatch(/refused the job/);
    // The cancel went out before the held deployment answered, to every worker of the job.
    const cancels = cancelsOf(h);
    expect(new Set(cancels.map((c) => c.workerId))).toEqual(new Set(['w1', 'w2']));
    for (const c of cancels) expect(c.before).toEqual(Object.fromEntries(ALL.map((id) => [id, 1])));
    // The held deployment completing late starts nothing: the worker's fence refuses it.
    h.gateway.releaseHeld();
    await h.until(() => h.logger.count('deployment failed') > 0);
    await new Promise<void>((resolve) => queueMicrotask(resolve));
    expect(h.gateway.running.size).toBe(0);
  });

  it('a deployment that times out: every task already started is cancelled, the late one is fenced, and the job restarts per strategy', async () => {
    const h = await harness({}, {
      script: (g) => {
        // The sink's worker times out while the other deployment is still unanswered.
        g.unreachable.add('sink#0');
        for (const id of ALL) if (id !== 'sink#0') g.hold.add(id);
      },
    });
    // The cancel goes out at once, not after the other worker answered.
    await h.until(() => cancelsOf(h).length > 0);
    const firstCancel = cancelsOf(h)[0];
    expect(firstCancel.before).toEqual(Object.fromEntries(ALL.map((id) => [id, 1])));
    h.gateway.hold.clear();
    h.gateway.releaseHeld();
    // Recoverable (checkpointed): a global restore deploys attempt 1 of every task; the late attempt 0 never starts.
    await h.until(() => [...h.jm.tasks.values()].every((t) => t.attempt === 1 && t.state === 'RUNNING'));
    expect([...h.gateway.running.values()].every((r) => r.attempt === 1)).toBe(true);
    expect(h.gateway.running.size).toBe(ALL.length);
    expect(h.logger.entries.some((e) => e.msg === 'deployment failed: cancelling every task it started' && String(e.obj.reason).includes('timed out'))).toBe(true);
  });
});
