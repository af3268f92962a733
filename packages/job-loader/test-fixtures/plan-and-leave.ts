// Plans a job with a warmed planner and then has nothing left to do: the process must end on
// its own (the spare planning child started for the next plan must not hold it open).
import { fileURLToPath } from 'node:url';
import { JobPlanner } from '../src/job-planner.js';

const planner = new JobPlanner();
planner.warm();
const job = await planner.plan(fileURLToPath(new URL('./keyed-job.ts', import.meta.url)), ['left']);
console.log(`planned ${job.name}`);
