import { readFileSync } from 'node:fs';
import { isLoopback } from './token.js';

/**
 * True when the worker runs on this machine (its data endpoint is on loopback) and no process
 * has its pid any more. A worker elsewhere, or one whose process still exists, is left to the
 * heartbeat rules. (Should a loopback worker live in another pid namespace, a wrong answer costs
 * an unneeded recovery: a live worker declared lost is fenced when it registers again.)
 */
export function workerProcessGone(worker: { readonly endpoint: string; readonly pid: number }): boolean {
  let host: string;
  try {
    host = new URL(worker.endpoint).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return false;
  }
  if (!isLoopback(host) || !Number.isInteger(worker.pid) || worker.pid <= 0 || worker.pid === process.pid) return false;
  try {
    process.kill(worker.pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
  // A killed child not yet reaped by its parent is a zombie: it has exited all the same (Linux).
  try {
    const stat = readFileSync(`/proc/${worker.pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}
