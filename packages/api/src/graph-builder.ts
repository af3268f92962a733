import type { CollectedRecords } from './collected-records.js';
import type {
  ConfigMap,
  ConfigValue,
  JobHandle,
  LogicalEdge,
  LogicalGraph,
  LogicalNode,
  OperatorKind,
  OperatorLanguage,
  PartitionSpec,
  SourceSpec,
} from '@mobius/interface';

/** A node while the job is being built: everything the user can still change. */
export class NodeBuilder {
  uid: string | undefined = undefined;
  parallelism: number | undefined = undefined;
  readonly config: Record<string, ConfigValue> = {};
  chaining = true;
  slotSharingGroup: string | undefined = undefined;
  language: OperatorLanguage = 'typescript';

  constructor(
    readonly seq: number,
    readonly kind: OperatorKind,
    public name: string,
    readonly fn: unknown,
    readonly source?: SourceSpec,
    readonly data?: readonly unknown[],
  ) {}

  /** The uid if given, else derived from the position in the graph. */
  get id(): string {
    return this.uid ?? `${this.kind}-${this.seq}`;
  }
}

interface EdgeBuilder {
  readonly source: NodeBuilder;
  readonly target: NodeBuilder;
  readonly partition: PartitionSpec;
  readonly sideOutput: string | undefined;
}

/** Collects nodes and edges in creation order; ids are resolved when the graph is taken. */
export class GraphBuilder {
  private readonly nodes: NodeBuilder[] = [];
  private readonly edges: EdgeBuilder[] = [];
  /** Collect sinks not yet run by a job: the next submit binds them to its handle. */
  readonly collects: CollectedRecords<unknown>[] = [];
  /** Submits this graph's job (set by its StreamingContext), for executeAndCollect(). */
  submit: ((name: string) => Promise<JobHandle>) | undefined;

  constructor(private readonly options: Readonly<Record<string, ConfigValue>>) {}

  addNode(kind: OperatorKind, name: string, fn: unknown, source?: SourceSpec, data?: readonly unknown[]): NodeBuilder {
    const node = new NodeBuilder(this.nodes.length + 1, kind, name, fn, source, data);
    this.nodes.push(node);
    return node;
  }

  /** An edge from `source`'s main output, or from its side output `sideOutput` (an OutputTag id). */
  addEdge(source: NodeBuilder, target: NodeBuilder, partition: PartitionSpec, sideOutput?: string): void {
    this.edges.push({ source, target, partition, sideOutput });
  }

  /** The nodes with an edge into `node` (checks that walk the graph upstream, e.g. for timestamps). */
  inputsOf(node: NodeBuilder): NodeBuilder[] {
    return this.edges.filter((e) => e.target === node).map((e) => e.source);
  }

  build(): LogicalGraph {
    const nodes: LogicalNode[] = this.nodes.map((n) => ({
      id: n.id,
      uid: n.uid,
      name: n.name,
      kind: n.kind,
      parallelism: n.parallelism,
      config: { ...n.config } as ConfigMap,
      chaining: n.chaining,
      ...(n.slotSharingGroup !== undefined ? { slotSharingGroup: n.slotSharingGroup } : {}),
      language: n.language,
      fn: n.fn,
      ...(n.source !== undefined ? { source: n.source } : {}),
      ...(n.data !== undefined ? { data: n.data } : {}),
    }));
    const edges: LogicalEdge[] = this.edges.map((e) => ({
      source: e.source.id,
      target: e.target.id,
      partition: e.partition,
      ...(e.sideOutput !== undefined ? { sideOutput: e.sideOutput } : {}),
    }));
    return { config: { ...this.options }, nodes, edges };
  }
}
