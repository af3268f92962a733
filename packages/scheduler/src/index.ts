export { SlotScheduler } from './slot-scheduler.js';
export { createLocalScheduler } from './local-scheduler.js';
export type { LocalSchedulerOptions } from './local-scheduler.js';
export { SchedulerError } from './errors.js';
export type { SchedulerErrorCode } from './errors.js';
export { slotSharingGroups, requiredSlots } from './slot-sharing.js';
export type { SlotSharingGroup } from './slot-sharing.js';
