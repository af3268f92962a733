import { MobiusError, type JobHandle } from '@mobius/interface';

/**
 * A job handle whose runner hands a collect sink's records back to the caller (the embedded
 * runner's does): the records of collect operator `collectId`, in order of arrival, for one
 * reader. They end when the job ends and fail with the job's error.
 */
export interface CollectingJobHandle extends JobHandle {
  collectResults(collectId: string): AsyncIterable<unknown>;
}

function isCollecting(handle: JobHandle): handle is CollectingJobHandle {
  return typeof (handle as Partial<CollectingJobHandle>).collectResults === 'function';
}

const DONE: IteratorReturnResult<undefined> = { done: true, value: undefined };

/**
 * What `collectAsync()` returns: the records of one collect sink, readable once the job that
 * runs it was submitted (the context binds it then). Iteration waits for that submission.
 */
export class CollectedRecords<T> implements AsyncIterable<T> {
  private handle: JobHandle | undefined;
  private readonly submitted: Promise<JobHandle>;
  private resolveSubmitted!: (handle: JobHandle) => void;
  private iterated = false;
  private opener: (() => Promise<AsyncIterator<unknown>>) | undefined;

  constructor(private readonly collectId: () => string) {
    this.submitted = new Promise<JobHandle>((resolve) => (this.resolveSubmitted = resolve));
  }

  /** True once a job that runs this sink was submitted. */
  get bound(): boolean {
    return this.handle !== undefined;
  }

  /** The job that runs this sink (the context calls it when it submits). */
  bind(handle: JobHandle): void {
    if (this.handle !== undefined) return;
    this.handle = handle;
    this.resolveSubmitted(handle);
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    if (this.iterated) throw new MobiusError('COLLECT_ALREADY_READ', 'the records of a collect sink can be read once: iterate collectAsync() in one place');
    this.iterated = true;
    let inner: AsyncIterator<unknown> | undefined;
    const open = async (): Promise<AsyncIterator<unknown>> => {
      if (inner !== undefined) return inner;
      const handle = await this.submitted;
      if (!isCollecting(handle)) {
        throw new MobiusError(
          'COLLECT_UNSUPPORTED',
          `the runner of job "${handle.name}" cannot hand a collect sink's records back to the caller (its job handle has no collectResults())`,
        );
      }
      inner = handle.collectResults(this.collectId())[Symbol.asyncIterator]();
      return inner;
    };
    this.opener = open;
    return {
      next: async () => (await open()).next() as Promise<IteratorResult<T>>,
      return: async () => {
        await inner?.return?.();
        return DONE;
      },
    };
  }

  /**
   * The next records at once, or undefined at the end: every record the runner holds now when
   * its results come in batches (the embedded runner's do), else one. Reads the same records
   * as the iterator (call `[Symbol.asyncIterator]()` first).
   */
  async nextBatch(): Promise<readonly T[] | undefined> {
    if (this.opener === undefined) throw new MobiusError('COLLECT_NOT_OPEN', 'nextBatch() reads an iterated collect sink: call [Symbol.asyncIterator]() first');
    const inner = (await this.opener()) as AsyncIterator<unknown> & Partial<BatchReader>;
    if (typeof inner.nextBatch === 'function') return (await inner.nextBatch()) as T[] | undefined;
    const one = await inner.next();
    return one.done === true ? undefined : [one.value as T];
  }
}

/** Results that can be read many records at a time (the embedded runner's collect buffer). */
interface BatchReader {
  nextBatch(): Promise<readonly unknown[] | undefined>;
}
