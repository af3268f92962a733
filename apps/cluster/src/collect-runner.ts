import { resolve } from 'node:path';
import { setRunnerOverride } from '@mobius/api';
import { JobFailedError, MobiusError, type JobHandle, type JobResult, type JobRunner, type JobState, type RecoveryEvent, type RescaleEvent, type TaskMetrics } from '@mobius/interface';
import { importJob } from '@mobius/job-loader';
import { waitForRescale, type ClusterClient } from './client.js';
import type { CollectResultsReply } from './collect-store.js';

/** The client polls the coordinator (network state: polling is the only way) this often when there is nothing new. */
const POLL_MS = 100;

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A job submitted to the coordinator, as the job module running in the submitting client sees
 * it: `executeAndCollect()` / `collectAsync()` read the collect sinks' records from
 * `GET /jobs/:id/results`, `result()` and `cancel()` go through the HTTP API.
 */
class SubmittedJob implements JobHandle {
  private lastState: JobState = 'RUNNING';
  private readonly startTime = Date.now();

  constructor(
    private readonly api: ClusterClient,
    readonly id: string,
    readonly name: string,
  ) {}

  get state(): JobState {
    return this.lastState;
  }

  async result(): Promise<JobResult> {
    for (;;) {
      const status = await this.api.call<{ state: JobState; error: string | null }>('GET', `/jobs/${this.id}`);
      this.lastState = status.state;
      if (status.state === 'FAILED') throw new JobFailedError(this.id, this.name, status.error ?? 'the job failed');
      if (status.state === 'FINISHED' || status.state === 'CANCELED') {
        const endTime = Date.now();
        return { jobId: this.id, name: this.name, state: status.state, startTime: this.startTime, endTime, durationMs: endTime - this.startTime, tasks: [] };
      }
      await pause(POLL_MS);
    }
  }

  async cancel(): Promise<void> {
    await this.api.call('POST', `/jobs/${this.id}/cancel`);
    await this.result().catch(() => undefined);
  }

  metrics(): readonly TaskMetrics[] {
    return [];
  }

  events(): readonly RecoveryEvent[] {
    return [];
  }

  /** `POST /jobs/:id/rescale`, then the rescale's event once it is done (rejects with RESCALE_FAILED if it failed). */
  async rescale(operator: string, parallelism: number): Promise<RescaleEvent> {
    const { id } = await this.api.call<{ id: string }>('POST', `/jobs/${this.id}/rescale`, { operator, parallelism });
    const event = await waitForRescale(this.api, this.id, id);
    if (event.failed !== undefined) throw new MobiusError('RESCALE_FAILED', `rescaling "${operator}" to ${parallelism} failed: ${event.failed}`);
    return event;
  }

  /** The records of collect sink `collectId`, fetched page by page until the job ended and all were read. */
  async *collectResults(collectId: string): AsyncIterable<unknown> {
    let from = 0;
    for (;;) {
      const page = await this.api.call<CollectResultsReply>('GET', `/jobs/${this.id}/results?collect=${encodeURIComponent(collectId)}&from=${from}`);
      from = page.next;
      for (const record of page.records) yield record;
      if (page.done) {
        this.lastState = page.state as JobState;
        if (page.state === 'FAILED') throw new JobFailedError(this.id, this.name, page.error ?? 'the job failed');
        return;
      }
      if (page.records.length === 0) await pause(POLL_MS);
    }
  }
}

/** Hands the job module the job the coordinator already runs (its graph is the one the module builds). */
class SubmittedJobRunner implements JobRunner {
  private handed = false;

  constructor(private readonly job: SubmittedJob) {}

  async submit(): Promise<JobHandle> {
    if (this.handed) throw new MobiusError('COLLECT_ONE_JOB', 'a job module submitted to a cluster submits one job: a second submit() or execute() is not supported');
    this.handed = true;
    return this.job;
  }
}

/**
 * `mobius-cluster submit` of a job with collect sinks: the coordinator runs the job, and the job
 * module runs here too, with `process.argv` as on the workers, so that its
 * `await stream.executeAndCollect()` gets the records (its `submit()` is handed the running job).
 */
export async function runCollectingJob(file: string, jobArgs: readonly string[], api: ClusterClient, job: { readonly id: string; readonly name: string }): Promise<number> {
  process.argv = [process.argv[0], resolve(file), ...jobArgs];
  setRunnerOverride(new SubmittedJobRunner(new SubmittedJob(api, job.id, job.name)));
  try {
    await importJob(file);
  } finally {
    setRunnerOverride(undefined);
  }
  return 0;
}
