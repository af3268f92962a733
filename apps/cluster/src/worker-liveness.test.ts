import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { workerProcessGone } from './worker-liveness.js';

describe('workerProcessGone', () => {
  it('is false while the process of a loopback worker runs, true once it was killed', async () => {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    await once(child, 'spawn');
    const worker = { endpoint: 'tcp://127.0.0.1:5555', pid: child.pid! };
    expect(workerProcessGone(worker)).toBe(false);
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
    expect(workerProcessGone(worker)).toBe(true);
  });

  it('leaves workers on other hosts, this process and unparsable endpoints to the heartbeat rules', async () => {
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    await once(child, 'exit');
    expect(workerProcessGone({ endpoint: 'tcp://127.0.0.1:5555', pid: child.pid! })).toBe(true);
    expect(workerProcessGone({ endpoint: 'tcp://10.1.2.3:5555', pid: child.pid! })).toBe(false);
    expect(workerProcessGone({ endpoint: 'not an endpoint', pid: child.pid! })).toBe(false);
    expect(workerProcessGone({ endpoint: 'tcp://127.0.0.1:5555', pid: process.pid })).toBe(false);
    expect(workerProcessGone({ endpoint: 'tcp://127.0.0.1:5555', pid: 0 })).toBe(false);
    expect(workerProcessGone({ endpoint: 'tcp://[::1]:5555', pid: child.pid! })).toBe(true);
  });
});
