export { captureJob, importJob } from './load-job.js';
export type { CapturedJob } from './load-job.js';
export { bundleJob, writeBundle, captureBundle } from './job-bundle.js';
