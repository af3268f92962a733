/**
 * Single-task failover end to end, in one process: a job source (p=2) → keyBy → reduce (sum
 * per key, p=2) → sink (p=1). One reduce task is cancelled mid-stream (its death), a new
 * attempt restores it from checkpoint 1 with the determinants its downstream task kept, and
 * its neighbours re-open their channels to it. The sink must see exactly what a run without
 * the failure produces.
 */
import { describe, expect, it } from 'vitest';
import { N, JOB, startJob, checkpoint, flow, flowHeld, finish, expectedSums, sorted, expectExactlyOnce, recordsBySeq } from './test-recovery-job.js';
import { PHASES, failTask, runWithFailure, runWithoutFailure, expectRegenerated } from './test-recovery-failover.js';

describe('single-task failover of a keyed reduce', () => {
  it('a run without failure gives the expected sums, one output per input record', async () => {
    const job = await runWithoutFailure();
    expect([...job.tasks.values()].map((t) => t.state)).toEqual(Array(job.tasks.size).fill('FINISHED'));
    expect(job.out.records).toHaveLength(N);
    expect(sorted(job.out.final())).toEqual(sorted(expectedSums()));
    expectExactlyOnce(job.out.records);
    expect(job.checkpoints.declined).toEqual([]);
  });

  for (const reduceId of ['sum#0', 'sum#1']) {
    it(`${reduceId} dies after checkpoint 1: its new attempt replays in the logged order and the sink gets exactly the records of a run without failure`, async () => {
      const baseline = await runWithoutFailure();
      const failover = await runWithFailure(reduceId);
      const { job, determinants, snapshot, replayed, restarted, outChannel, sinkHad, sinkRead } = failover;

      // The scenario: the reduce task died with part of its output not at the sink yet; the
      // sink held its log since checkpoint 1, with runs of both inputs.
      const sent = PHASES.held.at(-1)![1] + PHASES.held.at(-2)![1];
      expect(sinkHad).toBeLessThan(sent);
      expect(snapshot.checkpointId).toBe(1);
      expect(Math.max(...sinkRead.keys())).toBeGreaterThan(snapshot.outputs[outChannel]); // the sink had records sent after checkpoint 1
      expect(determinants.length).toBeGreaterThan(1);
      expect(determinants[0].n).toBe(snapshot.determinants! + 1);
      expect(new Set(determinants.filter((d) => d.kind === 'order').map((d) => d.input))).toEqual(new Set([0, 1]));
      expect(replayed).toBeGreaterThan(0); // the sources re-sent what they had sent since checkpoint 1

      // Every task finished, the other tasks without restarting.
      expect([...job.tasks.values()].map((t) => `${t.id}:${t.state}:${t.metrics().attempt}`).sort()).toEqual(
        job.plan.tasks.map((t) => `${t.id}:FINISHED:${t.id === reduceId ? 1 : 0}`).sort()
      );
      expect(job.checkpoints.declined).toEqual([]);

      // Exactly the results of a run without the failure: same final values, same number of
      // records (no duplicate, none lost), and each key's running sums consistent.
      expect(sorted(job.out.final())).toEqual(sorted(baseline.out.final()));
      expect(sorted(job.out.final())).toEqual(sorted(expectedSums()));
      expect(job.out.records).toHaveLength(baseline.out.records.length);
      expect(job.out.records).toHaveLength(N);
      expectExactlyOnce(job.out.records);

      // The rerun regenerated what the sink had taken from the dead attempt, record for record
      // (the sink dropped those as duplicates), then went on and ended its output.
      expectRegenerated(failover);
      const sent1 = recordsBySeq(job.transport.channels.get(`${JOB}/1.0/${outChannel}`)!.sent);
      expect(Math.max(...sent1.keys())).toBeGreaterThan(Math.max(...sinkRead.keys()));
      expect(restarted.metrics().recordsIn).toBeGreaterThan(0);
    });
  }

  it('the sink runs on while the new attempt is deployed: it reads nothing more of the dead attempt, whose log it handed over; still exactly once', async () => {
    const failover = await runWithFailure('sum#0', { sinkGoesOn: true });
    const { job } = failover;
    expectRegenerated(failover);
    expect(sorted(job.out.final())).toEqual(sorted(expectedSums()));
    expect(job.out.records).toHaveLength(N);
    expectExactlyOnce(job.out.records);
  });

  it('the same task dies twice: the second attempt restores checkpoint 2 (taken after the first recovery) and continues the log', async () => {
    const job = startJob();
    await flow(job, PHASES.before);
    await checkpoint(job, 1);
    await flow(job, PHASES.after);
    await flowHeld(job, PHASES.held);
    const first = await failTask(job, 'sum#1', { attempt: 1, checkpointId: 1 });
    // Recovered: everything sent so far reaches the sink, and the next checkpoint includes the new attempt.
    await job.out.reach(job.gate.allowed[0] + job.gate.allowed[1]);
    await checkpoint(job, 2);
    const s2 = job.checkpoints.of(2, 'sum#1');
    expect(s2.determinants!).toBeGreaterThan(first.snapshot.determinants!);
    await flow(job, [
      [0, 240],
      [1, 328],
    ]);
    await flowHeld(job, [
      [1, 360],
      [0, 272],
      [1, 376],
    ]);
    const second = await failTask(job, 'sum#1', {
      attempt: 2,
      checkpointId: 2,
    });
    await finish(job);

    expect(second.snapshot).toBe(s2);
    expect(second.determinants.length).toBeGreaterThan(0);
    expect(second.determinants[0].n).toBe(s2.determinants! + 1);
    expect(job.tasks.get('sum#1')!.metrics().attempt).toBe(2);
    expect([...job.tasks.values()].every((t) => t.state === 'FINISHED')).toBe(true);
    expect(job.checkpoints.declined).toEqual([]);
    expectRegenerated(first, 1, false); // it died too
    expectRegenerated(second, 2);
    expect(sorted(job.out.final())).toEqual(sorted(expectedSums()));
    expect(job.out.records).toHaveLength(N);
    expectExactlyOnce(job.out.records);
  });

  for (const aborted of [true, false]) {
    it(`a checkpoint not completed at the failure, ${
      aborted ? 'aborted: the replay skips its barriers' : 'not known to the new attempt: it declines it when its replay meets the barrier'
    }`, async () => {
      const job = startJob();
      await flow(job, PHASES.before);
      await checkpoint(job, 1);
      await flow(job, PHASES.after.slice(0, 2));
      // Checkpoint 2 is taken by every task but never completes.
      for (const t of job.tasks.values()) if (t.vertex.operatorIds[0] === 'src') t.triggerCheckpoint(2, 0);
      job.gate.wake();
      await job.checkpoints.done(2).promise;
      // Records after barrier 2 reach the sink, then more are under way when sum#0 dies.
      await flow(job, PHASES.after.slice(2));
      await flowHeld(job, PHASES.held);
      const failover = await failTask(job, 'sum#0', {
        attempt: 1,
        checkpointId: 1,
        abort: aborted ? 2 : undefined,
      });
      await finish(job);

      // The log the sink handed over spans barrier 2: the replay crossed it.
      const s2 = job.checkpoints.of(2, 'sum#0');
      expect(failover.snapshot.checkpointId).toBe(1);
      expect(failover.determinants[0].n).toBe(failover.snapshot.determinants! + 1);
      expect(failover.determinants.at(-1)!.n).toBeGreaterThan(s2.determinants!);
      expect(Math.max(...failover.sinkRead.keys())).toBeGreaterThanOrEqual(s2.outputs[failover.outChannel]);
      expect(job.checkpoints.declined).toEqual(aborted ? [] : ['sum#0:2:the task is replaying its determinant log after a recovery']);
      expect([...job.tasks.values()].every((t) => t.state === 'FINISHED')).toBe(true);
      expectRegenerated(failover);
      // The new attempt forwarded no barrier of the aborted checkpoint.
      expect(job.transport.channels.get(`${JOB}/1.0/${failover.outChannel}`)!.sent.some((f) => f.kind === 'barrier')).toBe(false);
      expect(sorted(job.out.final())).toEqual(sorted(expectedSums()));
      expect(job.out.records).toHaveLength(N);
      expectExactlyOnce(job.out.records);
    });
  }

  it('without the determinants the rerun takes its inputs in another order: the sink would get inconsistent records (what the log prevents)', async () => {
    const { job, snapshot, outChannel, sinkRead } = await runWithFailure('sum#0', { determinantsFor: () => [] });
    const sent1 = recordsBySeq(job.transport.channels.get(`${JOB}/1.0/${outChannel}`)!.sent);
    const regenerated = [...sinkRead.keys()].filter((seq) => seq >= snapshot.outputs[outChannel]);
    expect(regenerated.some((seq) => JSON.stringify(sent1.get(seq)) !== JSON.stringify(sinkRead.get(seq)))).toBe(true);
    // Final values and counts alone would not show it: the running sums the sink saw do.
    expect(sorted(job.out.final())).toEqual(sorted(expectedSums()));
    expect(() => expectExactlyOnce(job.out.records)).toThrow();
  });
});
