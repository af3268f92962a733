import type { SourceContext, SourceFunction } from '@mobius/interface';

/** fromValues / fromCollection: task i of n emits the i-th contiguous slice of the data. */
export class CollectionSource implements SourceFunction<unknown> {
  private offset = 0;
  private end = 0;

  constructor(
    private readonly data: readonly unknown[],
    private readonly batchSize: number,
  ) {}

  init(parallelism: number, index: number): void {
    const n = this.data.length;
    this.offset = Math.floor((index * n) / parallelism);
    this.end = Math.floor(((index + 1) * n) / parallelism);
  }

  fetch(ctx: SourceContext<unknown>): void {
    const stop = Math.min(this.end, this.offset + this.batchSize);
    const data = this.data;
    for (let i = this.offset; i < stop; i++) ctx.collect(data[i]);
    this.offset = stop;
    if (this.offset >= this.end) ctx.end();
  }

  /** The index of the next element to emit. */
  snapshotState(): number {
    return this.offset;
  }

  restoreState(state: unknown): void {
    this.offset = state as number;
  }
}
