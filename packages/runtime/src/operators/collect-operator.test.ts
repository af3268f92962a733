import type { RuntimeContext } from '@mobius/interface';
import { describe, expect, it } from 'vitest';
import { CollectBuffer } from '../sinks/collect-buffer.js';
import { registerCollectTarget } from '../sinks/collect-target.js';
import { CollectOperator } from './collect-operator.js';
import { operatorFactory } from './operator-registry.js';
import { PendingWrites } from './pending-writes.js';

const identity = { operatorId: 'collect-3', operatorName: 'collect', taskIndex: 0 };
const context = (jobId: string): RuntimeContext => ({ jobId, taskIndex: 0 }) as RuntimeContext;

describe('CollectOperator', () => {
  it('is registered as kind collect', () => {
    expect(operatorFactory('collect')).toBeTypeOf('function');
  });

  it('hands records to the collect target of its job and waits, once per fill, while the buffer is full', async () => {
    const buffer = new CollectBuffer<number>(27); // three numbers of 9 estimated bytes
    const outlets: string[] = [];
    const unregister = registerCollectTarget('job-a', {
      outlet(collectId, taskIndex) {
        outlets.push(`${collectId}#${taskIndex}`);
        return buffer;
      },
    });
    try {
      const pending = new PendingWrites();
      const op = new CollectOperator(identity, pending);
      await op.open(context('job-a'));
      expect(outlets).toEqual(['collect-3#0']);
      for (let i = 0; i < 5; i++) op.collect(i);
      expect(buffer.length).toBe(5);
      expect(pending.promises).toHaveLength(1);
      let released = false;
      const wait = Promise.all(pending.take()).then(() => (released = true));
      await new Promise((r) => setImmediate(r));
      expect(released).toBe(false);
      const it = buffer[Symbol.asyncIterator]();
      for (let i = 0; i < 3; i++) await it.next();
      await wait;
      expect(released).toBe(true);
      await it.next(); // one record held: room for two more
      op.collect(5);
      expect(pending.promises).toHaveLength(0);
    } finally {
      unregister();
    }
  });

  it('a cancelled task (pending.abort) stops waiting for a reader that never comes', async () => {
    const buffer = new CollectBuffer<number>(9);
    const unregister = registerCollectTarget('job-b', { outlet: () => buffer });
    try {
      const pending = new PendingWrites();
      const op = new CollectOperator(identity, pending);
      await op.open(context('job-b'));
      op.collect(1);
      const wait = Promise.all(pending.take());
      pending.abort();
      await wait;
    } finally {
      unregister();
    }
  });

  it('fails to open, naming the sink and job, where no collect target was registered', async () => {
    const op = new CollectOperator(identity, new PendingWrites());
    await expect(op.open(context('job-nowhere'))).rejects.toThrow(/collect sink "collect" of job job-nowhere: this process has no collect target/);
  });
});
