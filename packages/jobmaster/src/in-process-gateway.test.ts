import { silentLogger, type LogicalGraph, type Transport } from '@mobius/interface';
import { MemoryStateBackend } from '@mobius/runtime';
import { describe, expect, it } from 'vitest';
import { InProcessGateway } from './in-process-gateway.js';
import { testPlan } from './test-fixtures.js';

// The fence refuses a deployment before any task is built or wired: no graph, and a transport
// that is never used (an engine package's test imports no transport plugin).
const noGraph = { nodes: [], edges: [] } as unknown as LogicalGraph;
const unusedTransport = { endpoint: 'memory://unused' } as unknown as Transport;

describe('InProcessGateway: deployments of cancelled attempts', () => {
  it('refuses to start an attempt at or below the highest one cancelled (a cancel that came while it was deploying)', async () => {
    const plan = testPlan({});
    const gateway = new InProcessGateway({ jobId: 'job-1', plan, graph: noGraph, transport: unusedTransport, stateBackend: new MemoryStateBackend(), logger: silentLogger });
    gateway.cancel('job-1', 'local', { before: { 'map#0': 2, 'sink#0': 1 } });
    const attempts = Object.fromEntries(plan.tasks.map((t) => [t.id, 1]));
    const late = gateway.deploy({ jobId: 'job-1', workerId: 'local', tasks: [{ taskId: 'map#0', attempt: 1 }], endpoints: {}, attempts });
    await expect(late).rejects.toMatchObject({ code: 'DEPLOY_REFUSED', message: expect.stringContaining('attempts up to 1 were cancelled before this deployment completed') });
    expect(gateway.executor.tasks.size).toBe(0);
  });
});
