import { randomUUID } from 'node:crypto';
import { Api, start, stopAll, waitForLine, type Proc, type WorkerInfo } from './cluster-helpers.js';

/**
 * A coordinator with the planning and body limits the user-code tests need, and two workers.
 * (cluster-helpers' startCluster takes no coordinator flags.)
 */
export async function startLimitedCluster(coordinatorFlags: string[]) {
  const token = randomUUID();
  const coordinator = start(['coordinator', '--port', '0', '--http-port', '0', '--token', token, '--heartbeat-timeout-ms', '2000', ...coordinatorFlags]);
  const [, url, control] = await waitForLine(coordinator, /ready: (\S+) control (\S+)/, 60_000);
  const workers: Proc[] = [0, 1].map(() => start(['worker', '--coordinator', control, '--token', token, '--slots', '4']));
  const api = new Api(url, token);
  const registered = await api.waitForWorkers(2, 60_000);
  return { coordinator, workers, url, token, api, registered, stop: () => stopAll([...workers, coordinator]) };
}

/** Log lines where the coordinator declared a worker lost (JSON lines on its stderr). */
export function lostWorkerLines(coordinator: Proc): string[] {
  return coordinator.stderr.split('\n').filter((l) => / lost: /.test(l));
}

/** The same workers are still registered, each with a heartbeat newer than `since`. */
export async function heartbeatsSince(api: Api, ids: readonly string[], since: number, timeoutMs = 30_000): Promise<WorkerInfo[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const body = await api.workers();
    if (body.length === ids.length && body.every((w) => ids.includes(w.id) && w.lastHeartbeat > since)) return body;
    if (Date.now() > deadline) throw new Error(`workers ${ids.join(', ')} did not all heartbeat after ${since}: ${JSON.stringify(body)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
