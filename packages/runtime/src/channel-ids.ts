import type { PlanChannel } from '@mobius/interface';

/**
 * One transport carries the channels of many jobs, and of old and new attempts of restarted
 * tasks: channel ids are scoped by job and by the attempts of both ends.
 */
export class ChannelIds {
  /** taskId → current attempt. */
  readonly attempts: Record<string, number> = {};

  constructor(
    private readonly jobId: string,
    taskIds: Iterable<string>,
    attempt: number,
    known: Readonly<Record<string, number>> | undefined,
  ) {
    for (const t of taskIds) this.attempts[t] = known?.[t] ?? attempt;
  }

  idOf(c: PlanChannel): string {
    return `${this.jobId}/${this.attempts[c.sourceTask]}.${this.attempts[c.targetTask]}/${c.id}`;
  }
}
