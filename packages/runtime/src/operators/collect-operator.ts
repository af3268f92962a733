import { MobiusError, type RuntimeContext } from '@mobius/interface';
import type { CollectOutlet } from '../sinks/collect-target.js';
import { collectTargetOf } from '../sinks/collect-target.js';
import { operatorFailure, type OperatorIdentity } from './operator.js';
import { registerOperator } from './operator-registry.js';
import type { DrainableCalls, PendingWrites } from './pending-writes.js';
import { StreamOperator } from './stream-operator.js';

/**
 * collect: the sink of `executeAndCollect()` and `collectAsync()`. Each record goes to the
 * collect target of its job in this process (a bounded buffer the caller reads, or a forwarder
 * to it), never through a user function. When the caller's buffer is full the task waits,
 * between input batches, until the caller reads: one promise per fill, none per record.
 */
export class CollectOperator extends StreamOperator {
  private outlet: CollectOutlet | undefined;
  private blocked = false;
  private release: (() => void) | undefined;
  private readonly onWritable = (): void => {
    this.blocked = false;
    const release = this.release;
    this.release = undefined;
    release?.();
  };
  private readonly waitForRoom = (resolve: () => void): void => {
    this.release = resolve;
    this.outlet!.whenWritable().then(this.onWritable, this.onWritable);
  };

  constructor(
    identity: OperatorIdentity,
    private readonly pending: PendingWrites,
  ) {
    super(identity, undefined);
    // A cancelled task aborts its pending calls: a wait for a reader that never comes ends there.
    const release: DrainableCalls = { busy: false, drain: () => Promise.resolve(), close: this.onWritable };
    pending.calls.push(release);
  }

  override async open(ctx: RuntimeContext): Promise<void> {
    const target = collectTargetOf(ctx.jobId);
    if (target === undefined) {
      throw operatorFailure(
        this.identity,
        new MobiusError(
          'COLLECT_UNSUPPORTED',
          `collect sink "${this.identity.operatorName}" of job ${ctx.jobId}: this process has no collect target for the job, so its records cannot reach the caller (in embedded mode the job registers one; on a cluster the worker does)`,
        ),
      );
    }
    this.outlet = target.outlet(this.identity.operatorId, ctx.taskIndex);
  }

  /** End of input: records still on their way (a forwarder's batch) reach the caller before the task finishes. */
  override async finish(): Promise<void> {
    try {
      await this.outlet?.flush?.();
    } catch (e) {
      throw operatorFailure(this.identity, e);
    }
  }

  collect(record: unknown): void {
    if (this.outlet!.push(record) || this.blocked) return;
    this.blocked = true;
    this.pending.promises.push(new Promise<void>(this.waitForRoom));
  }
}

/** Registers kind 'collect'. */
export const COLLECT_OPERATOR = registerOperator('collect', (ctx) => new CollectOperator(ctx.identity, ctx.pending));
