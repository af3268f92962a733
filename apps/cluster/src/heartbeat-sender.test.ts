import { describe, expect, it } from 'vitest';
import { silentLogger, type ControlMessage } from '@mobius/interface';
import { ZmqControlServer } from '@mobius/transport-zeromq';
import { HeartbeatSender } from './heartbeat-sender.js';
import { heartbeatPeerId } from './heartbeat-peer.js';

type Heartbeat = Extract<ControlMessage, { type: 'heartbeat' }>;

describe('HeartbeatSender: heartbeats from a thread of their own', () => {
  it('keeps sending while the main thread is held, with the published tasks and their progress', { timeout: 60_000 }, async () => {
    const server = new ZmqControlServer({ logger: silentLogger });
    await server.start();
    const beats: { from: string; message: Heartbeat; at: number }[] = [];
    server.onPush((from, message) => {
      if (message.type === 'heartbeat') beats.push({ from, message, at: Date.now() });
    });
    const sender = new HeartbeatSender(silentLogger);
    try {
      await sender.start(server.endpoint, 'worker-x');
      const claim = sender.claim('job/map#0', 3);
      claim.progress.working(41);
      sender.publish([{ taskId: 'job/map#0', vertexName: 'map', recordsIn: 41, recordsOut: 40, attempt: 3 }]);
      sender.begin(50);
      // Wait for a first heartbeat (on events: the server's push handler).
      await new Promise<void>((resolve) => {
        const t = setInterval(() => beats.length > 0 && (clearInterval(t), resolve()), 5);
      });
      // Hold the main thread for 1.5 s, as a CPU-bound task would.
      const heldFrom = Date.now();
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1500);
      const heldTo = Date.now();
      // The heartbeats the thread sent meanwhile were queued by ZeroMQ: read them now.
      await new Promise<void>((resolve) => {
        const t = setInterval(() => beats.some((b) => b.message.time >= heldTo) && (clearInterval(t), resolve()), 5);
      });
      const during = beats.filter((b) => b.message.time > heldFrom && b.message.time < heldTo);
      expect(during.length, 'heartbeats sent while the main thread was held').toBeGreaterThanOrEqual(10);
      const last = beats[beats.length - 1];
      expect(last.from).toBe(heartbeatPeerId('worker-x'));
      expect(last.message.workerId).toBe('worker-x');
      expect(last.message.tasks.map((t) => t.taskId)).toEqual(['job/map#0']);
      expect(last.message.progress).toEqual([{ taskId: 'job/map#0', attempt: 3, records: 41, busy: true }]);
      claim.release();
      sender.publish([]);
      await new Promise<void>((resolve) => {
        const t = setInterval(() => beats[beats.length - 1].message.progress?.length === 0 && (clearInterval(t), resolve()), 5);
      });
    } finally {
      await sender.stop();
      await server.close();
    }
  });

  it('publish() resolves once the thread holds the list: no heartbeat sent after that carries the old one', { timeout: 60_000 }, async () => {
    const server = new ZmqControlServer({ logger: silentLogger });
    await server.start();
    const beats: Heartbeat[] = [];
    server.onPush((_from, message) => {
      if (message.type === 'heartbeat') beats.push(message);
    });
    const sender = new HeartbeatSender(silentLogger);
    try {
      await sender.start(server.endpoint, 'worker-y');
      sender.begin(2);
      const lists: string[][] = [];
      for (let i = 0; i < 20; i++) {
        const list = i % 2 === 0 ? [`job/t#${i}`] : [];
        lists.push(list);
        await sender.publish(list.map((taskId) => ({ taskId, vertexName: 't', recordsIn: 0, recordsOut: 0, attempt: 0 })));
        const taken = Date.now();
        // Wait (on the server's pushes) for a heartbeat sent after the publish resolved.
        await new Promise<void>((resolve) => {
          const t = setInterval(() => beats.some((b) => b.time > taken) && (clearInterval(t), resolve()), 1);
        });
        const after = beats.filter((b) => b.time > taken);
        expect(after.map((b) => b.tasks.map((x) => x.taskId)), `heartbeats after publish #${i}`).toEqual(after.map(() => list));
        beats.length = 0;
      }
    } finally {
      await sender.stop();
      await server.close();
    }
  });
});
