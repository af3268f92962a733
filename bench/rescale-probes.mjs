// Where a rescale's time goes, for rescale-bench.mjs. Wraps, once, the methods a rescale (live
// or by savepoint) spends its time in, and records when each call ran: the memory state
// backend's snapshot and restore of one task's keyed state (V8 serialize / deserialize), the
// filesystem checkpoint store's writes, reads and completions, and the in-process gateway's
// deploy (which reads and decodes the snapshots, then starts the tasks). Each is called once per
// task, file or checkpoint, never per record, so the wrapping costs nothing measurable.
// A diagnostic only: the same job runs unwrapped if these names move (installProbes says so).
import { FsCheckpointStore } from '@mobius/failover';
import { InProcessGateway } from '@mobius/jobmaster';
import { MemoryStateBackend } from '@mobius/runtime';

const snapshotBytes = (snap) => [...(snap?.groups?.values() ?? [])].reduce((n, b) => n + b.byteLength, 0);

/** The kinds of span, in the order a rescale goes through them. */
export const SPAN_KINDS = ['state snapshot', 'store write', 'checkpoint complete', 'deploy', 'store read', 'state restore'];

/**
 * Installs the wrappers and returns the spans they record ({ kind, who, start, end, bytes },
 * epoch ms) with `reset()`; `missing` lists the methods that were not found.
 */
export function installProbes() {
  const spans = [];
  const missing = [];
  const wrap = (target, method, kind, who, bytesOf) => {
    const original = target[method];
    if (typeof original !== 'function') {
      missing.push(`${kind} (${method})`);
      return;
    }
    target[method] = async function (...args) {
      const start = Date.now();
      const result = await original.apply(this, args);
      spans.push({ kind, who: who(args), start, end: Date.now(), bytes: bytesOf(args, result) });
      return result;
    };
  };
  const none = () => 0;
  wrap(FsCheckpointStore.prototype, 'writeTaskState', 'store write', (a) => a[2], (a) => a[3].byteLength);
  wrap(FsCheckpointStore.prototype, 'readTaskState', 'store read', (a) => a[0].split('/').pop(), (_, r) => r.byteLength);
  wrap(FsCheckpointStore.prototype, 'complete', 'checkpoint complete', (a) => `chk-${a[0].checkpointId}`, none);
  wrap(InProcessGateway.prototype, 'deploy', 'deploy', (a) => a[0].tasks.map((t) => t.taskId).join(' '), none);
  const create = MemoryStateBackend.prototype.create;
  if (typeof create !== 'function') missing.push('state snapshot and restore (MemoryStateBackend.create)');
  else {
    MemoryStateBackend.prototype.create = function (scope) {
      const state = create.call(this, scope);
      const who = () => `${scope.operatorId}#${scope.taskIndex}`;
      wrap(state, 'snapshot', 'state snapshot', who, (_, snap) => snapshotBytes(snap));
      wrap(state, 'restore', 'state restore', who, none);
      return state;
    };
  }
  return { spans, missing, reset: () => void (spans.length = 0) };
}

/** Per kind of span since `t0`: calls, bytes, first start and last end (ms after t0), and the longest call. */
export function summarizeSpans(spans, t0) {
  const out = [];
  for (const kind of SPAN_KINDS) {
    const of = spans.filter((s) => s.kind === kind && s.end >= t0);
    if (of.length === 0) continue;
    out.push({
      kind,
      calls: of.length,
      bytes: of.reduce((n, s) => n + s.bytes, 0),
      fromMs: Math.min(...of.map((s) => s.start)) - t0,
      toMs: Math.max(...of.map((s) => s.end)) - t0,
      longestMs: Math.max(...of.map((s) => s.end - s.start)),
    });
  }
  return out;
}
