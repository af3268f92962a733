// The planning child's entry: imports one job bundle in planning mode and hands its graph back
// over IPC, so user code runs here and never in the process that asked (the coordinator).
import { MobiusError } from '@mobius/interface';
import { captureBundle } from './capture-bundle.js';
import { toPortableJob } from './portable-graph.js';
import type { PlanReply, PlanRequest } from './plan-protocol.js';

const MAX_MESSAGE_CHARS = 4000;

function reply(message: PlanReply): void {
  process.send!(message);
}

function failed(e: unknown): PlanReply {
  const code = e instanceof MobiusError ? e.code : 'INVALID_JOB';
  const message = e instanceof Error ? e.message : String(e);
  return { type: 'failed', code, message: message.length > MAX_MESSAGE_CHARS ? `${message.slice(0, MAX_MESSAGE_CHARS)}… (${message.length} characters)` : message };
}

// The module every bundle imports (mobius), loaded while this child waits for its job; a failure
// here is left for the job's own import to report.
const preload = process.argv[2];
const ready: Promise<unknown> = preload === undefined ? Promise.resolve() : import(preload).catch(() => undefined);

// The listener also keeps this process alive while the job's top-level await waits, so a job
// that never submits is a timeout, not an exit.
process.on('message', (request: PlanRequest) => {
  ready.then(() => captureBundle(request.path, request.args)).then(
    (job) => {
      try {
        reply({ type: 'planned', job: toPortableJob(job) });
      } catch (e) {
        reply(failed(e));
      }
    },
    (e: unknown) => reply(failed(e)),
  );
});
