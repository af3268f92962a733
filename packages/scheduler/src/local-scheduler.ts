import { SlotScheduler } from './slot-scheduler.js';

export interface LocalSchedulerOptions {
  /** Slots of the embedded worker; unbounded by default since in-process tasks are just async work. */
  readonly slots?: number;
}

/** The embedded placement: one in-process worker, `local`, that every task lands on. */
export function createLocalScheduler(options: LocalSchedulerOptions = {}): SlotScheduler {
  const scheduler = new SlotScheduler();
  scheduler.registerWorker({
    id: 'local',
    endpoint: 'memory://local',
    slots: options.slots ?? Number.MAX_SAFE_INTEGER,
    pid: process.pid,
  });
  return scheduler;
}
