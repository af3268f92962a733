export { captureJob, importJob } from './load-job.js';
export type { CapturedJob } from './load-job.js';
export { bundleJob, writeBundle } from './job-bundle.js';
export { captureBundle } from './capture-bundle.js';
export { JobPlanner, PLANNER_DEFAULTS } from './job-planner.js';
export type { JobPlannerOptions } from './job-planner.js';
export { JobExitedError, PlanQueueFullError, PlanTimeoutError } from './plan-errors.js';
