import {
  PlanError,
  type ConfigValue,
  type ExecutionPlan,
  type JobHandle,
  type JobResult,
  type JobRunner,
  type LogicalGraph,
  type SourceFunction,
} from '@mobius/interface';
import { createPlan, explain, type ExplainFormat } from '@mobius/planner';
import { DataStream } from './data-stream.js';
import { GraphBuilder } from './graph-builder.js';
import { resolveRunner } from './runner-registry.js';

// No node:path here: this package must also load in a browser bundle.
function absolutePath(path: string): string {
  if (path.startsWith('/') || /^[A-Za-z]:[\\/]/.test(path)) return path;
  const cwd = typeof process !== 'undefined' && typeof process.cwd === 'function' ? process.cwd() : '';
  return cwd === '' ? path : `${cwd.replace(/[\\/]$/, '')}/${path.replace(/^\.\//, '')}`;
}

/** Builds a StreamingContext: `StreamingContext.builder().option(key, value).build()`. */
export class StreamingContextBuilder {
  private readonly options: Record<string, ConfigValue> = {};
  private jobRunner: JobRunner | undefined;

  /** Sets a job option (validated when the job is planned; see the config keys in the README). */
  option(key: string, value: ConfigValue): this {
    this.options[key] = value;
    return this;
  }

  /** Runs jobs of this context with the given runner instead of the default one. */
  runner(runner: JobRunner): this {
    this.jobRunner = runner;
    return this;
  }

  build(): StreamingContext {
    // A copy: options set on the builder afterwards do not change contexts already built.
    return new StreamingContext({ ...this.options }, this.jobRunner);
  }
}

/** The entry point of a job: creates sources, then plans, explains or submits the graph. */
export class StreamingContext {
  private readonly graphBuilder: GraphBuilder;

  /** Prefer `StreamingContext.builder()...build()`. */
  constructor(
    options: Readonly<Record<string, ConfigValue>> = {},
    private readonly jobRunner?: JobRunner,
  ) {
    this.graphBuilder = new GraphBuilder(options);
    this.graphBuilder.submit = (name) => this.submit(name);
  }

  static builder(): StreamingContextBuilder {
    return new StreamingContextBuilder();
  }

  /** A context with no options (the seed's Java `buildContext()`). */
  static buildContext(): StreamingContext {
    return new StreamingContext();
  }

  /** A bounded source of the given values. */
  fromValues<T>(...values: T[]): DataStream<T> {
    return this.collectionSource(values, 'fromValues');
  }

  /** A bounded source of the elements of an iterable (copied when the job is built). */
  fromCollection<T>(values: Iterable<T>): DataStream<T> {
    if (values === null || values === undefined || typeof (values as Iterable<T>)[Symbol.iterator] !== 'function') {
      throw new PlanError('PLAN_INVALID_FUNCTION', 'fromCollection() takes an iterable (an array, a Set, a generator...)');
    }
    return this.collectionSource(Array.from(values), 'fromCollection');
  }

  private collectionSource<T>(data: T[], name: string): DataStream<T> {
    const node = this.graphBuilder.addNode('source', name, undefined, { type: 'collection', size: data.length }, data);
    return new DataStream<T>(this.graphBuilder, node);
  }

  /**
   * The lines of a text file, streamed (never held whole in memory). At parallelism n the file
   * is cut into n byte ranges at line boundaries; every line is read exactly once.
   */
  readTextFile(path: string): DataStream<string> {
    if (typeof path !== 'string' || path.length === 0) throw new PlanError('PLAN_INVALID_FUNCTION', 'readTextFile() takes a file path');
    const node = this.graphBuilder.addNode('source', 'readTextFile', undefined, { type: 'textFile', path: absolutePath(path) });
    return new DataStream<string>(this.graphBuilder, node);
  }

  /** A user source: an object with `fetch(ctx)` (called until `ctx.end()`) or `run(ctx)`. */
  source<T>(fn: SourceFunction<T>): DataStream<T> {
    if (typeof fn !== 'object' || fn === null || (typeof fn.fetch !== 'function' && typeof fn.run !== 'function')) {
      throw new PlanError('PLAN_INVALID_FUNCTION', 'source() takes an object with a fetch(ctx) or run(ctx) method');
    }
    const node = this.graphBuilder.addNode('source', 'source', fn, { type: 'function' });
    return new DataStream<T>(this.graphBuilder, node);
  }

  /** The logical graph built so far. */
  graph(): LogicalGraph {
    return this.graphBuilder.build();
  }

  /** Validates and plans the job (throws ConfigError or PlanError naming the problem). */
  plan(name = 'job'): ExecutionPlan {
    return createPlan(this.graph(), name);
  }

  /** The execution plan as text, or as a Mermaid flowchart. */
  explain(format: ExplainFormat = 'text', name = 'job'): string {
    return explain(this.plan(name), format);
  }

  /** Starts the job and returns its handle: `await job.result()` waits for a bounded job. */
  async submit(name = 'job'): Promise<JobHandle> {
    const graph = this.graph();
    createPlan(graph, name); // validate before handing over, so errors surface here
    const job = await resolveRunner(this.jobRunner).submit(graph, { name });
    // collectAsync() streams read from the first job that runs them.
    for (const records of this.graphBuilder.collects) records.bind(job);
    return job;
  }

  /** `submit(name)` then `result()`, in one call (the seed's Java name). */
  async execute(name = 'job'): Promise<JobResult> {
    const job = await this.submit(name);
    return job.result();
  }
}
