import { readdirSync, readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Api, start, stopAll, waitForLine } from './cluster-helpers.js';

/** Pids of the processes whose parent is `ppid`, read from /proc (Linux). */
function childrenOf(ppid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Field 4 of /proc/<pid>/stat is the parent pid; the command name (field 2) may hold spaces.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === ppid) pids.push(Number(entry));
    } catch {
      // the process ended meanwhile
    }
  }
  return pids;
}

const cmdline = (pid: number): string => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');

describe.runIf(process.platform === 'linux')('mobius-cluster local keeps the token off command lines', () => {
  it('passes the token to its coordinator and workers in their environment, not in /proc/<pid>/cmdline', async () => {
    const token = `tok-${randomUUID()}`;
    // Given as MOBIUS_TOKEN, as the README advises: not on local's own command line either.
    const local = start(['local', '--workers', '2', '--port', '0', '--http-port', '0'], { MOBIUS_TOKEN: token });
    try {
      const [, url] = await waitForLine(local, /Mobius cluster ready: (\S+)/, 120_000);
      const api = new Api(url, token);
      const workers = await api.waitForWorkers(2, 60_000);
      const children = childrenOf(local.child.pid!);
      // The coordinator and both workers.
      expect(children).toHaveLength(3);
      for (const w of workers) expect(children).toContain(w.pid);
      for (const pid of [local.child.pid!, ...children]) {
        const line = cmdline(pid);
        expect(line).toMatch(/cli\.js (local|coordinator|worker)/);
        expect(line).not.toContain(token);
        expect(line).not.toContain('--token');
      }
      // The token still guards the cluster: the workers registered with it, a wrong one is refused.
      expect((await api.call('GET', '/workers', undefined, 'wrong')).status).toBe(401);
    } finally {
      await stopAll([local]);
    }
  }, 180_000);
});
