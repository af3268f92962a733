import { BackpressureError } from '@mobius/interface';

/** Where held emissions go once they are let through (the source context's own paths). */
export interface EmissionTarget {
  emit(record: unknown, timestamp: number): void | Promise<void>;
  emitWatermark(watermark: number): void;
  markAsTemporarilyIdle(): void;
}

type Held =
  | { readonly kind: 'record'; readonly record: unknown; readonly timestamp: number; readonly resolve: () => void; readonly reject: (e: unknown) => void }
  | { readonly kind: 'watermark'; watermark: number }
  | { readonly kind: 'idle' };

/**
 * What a `run()` source emits while a checkpoint taken as it waited on its own work is under
 * way (see SourceLoop): kept in order and let through after the barrier, so nothing the source
 * does once the checkpoint started lands before its barrier (Flink's checkpoint lock). The
 * source awaits the promise of the first record held, so one record waits, after at most a few
 * watermarks (consecutive ones kept as their maximum); a source that collects more ignored that
 * promise and fails as it does on a full output.
 */
export class HeldEmissions {
  private readonly entries: Held[] = [];
  private records = 0;

  constructor(
    private readonly limit: number,
    /** `source "name" task #i`, for the error. */
    private readonly source: string,
  ) {}

  record(record: unknown, timestamp: number): Promise<void> {
    if (++this.records > this.limit) {
      throw new BackpressureError(
        `${this.source} collected ${this.records} records while a checkpoint was taken: a run() source must await the promise collect() returns`,
      );
    }
    const held = new Promise<void>((resolve, reject) => this.entries.push({ kind: 'record', record, timestamp, resolve, reject }));
    // A source that does not await it must not turn a cancel into an unhandled rejection.
    held.catch(() => undefined);
    return held;
  }

  watermark(watermark: number): void {
    const last = this.entries.at(-1);
    if (last?.kind === 'watermark') last.watermark = Math.max(last.watermark, watermark);
    else this.entries.push({ kind: 'watermark', watermark });
  }

  idle(): void {
    if (this.entries.at(-1)?.kind !== 'idle') this.entries.push({ kind: 'idle' });
  }

  /**
   * Emits everything held, in order, into `target`; each record's promise settles once its own
   * emission's wait (credit, a barrier) is over. The first failure (a cancel) rejects the record
   * it hit and every record after it; resolves with that failure when no record took it to the
   * source (a watermark's emission failed), else with undefined.
   */
  async release(target: EmissionTarget): Promise<{ readonly error: unknown } | undefined> {
    let failure: { readonly error: unknown } | undefined;
    let told = false;
    for (const e of this.entries) {
      if (failure !== undefined) {
        if (e.kind === 'record') {
          e.reject(failure.error);
          told = true;
        }
        continue;
      }
      try {
        if (e.kind === 'record') {
          const wait = target.emit(e.record, e.timestamp);
          if (wait !== undefined) await wait;
          e.resolve();
        } else if (e.kind === 'watermark') {
          target.emitWatermark(e.watermark);
        } else {
          target.markAsTemporarilyIdle();
        }
      } catch (error) {
        failure = { error };
        if (e.kind === 'record') {
          e.reject(error);
          told = true;
        }
      }
    }
    return told ? undefined : failure;
  }
}
