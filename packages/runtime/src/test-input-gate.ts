// Fixtures shared by the input-gate-*.test.ts files on de-duplication and replay: a gate over test channels and frame builders.
import { makeFrame, type Barrier, type Determinant, type Frame } from '@mobius/interface';
import { InputGate, type InputGateOptions } from './input-gate.js';
import { channelPair, type TestChannel, type TestSender } from './test-channels.js';

export function gateOf(n: number, options: InputGateOptions = {}): { gate: InputGate; channels: TestChannel[]; senders: TestSender[] } {
  const pairs = Array.from({ length: n }, (_, i) => channelPair(`c${i}`, 16));
  return {
    gate: new InputGate(
      pairs.map((p) => p.receiver),
      options
    ),
    channels: pairs.map((p) => p.channel),
    senders: pairs.map((p) => p.sender),
  };
}

export const barrier = (checkpointId: number): Barrier => ({
  checkpointId,
  timestamp: 0,
  type: 'checkpoint',
});
/** A data frame whose records name their channel and sequence number. */
export const data = (channel: string, seq: number, count = 1, determinants: readonly Determinant[] | null = null): Frame =>
  makeFrame(
    channel,
    'data',
    seq,
    Array.from({ length: count }, (_, i) => `${channel}/${seq + i}`),
    null,
    null,
    determinants
  );
export const barrierFrame = (channel: string, seq: number, id: number, determinants: readonly Determinant[] | null = null): Frame =>
  makeFrame(channel, 'barrier', seq, null, barrier(id), null, determinants);
export const end = (channel: string, seq: number, determinants: readonly Determinant[] | null = null): Frame =>
  makeFrame(channel, 'end', seq, null, null, null, determinants);
export const order = (n: number, input = 0, count = 1): Determinant => ({
  n,
  kind: 'order',
  input,
  count,
  value: 0,
});

export function pollAll(gate: InputGate): Frame[] {
  const out: Frame[] = [];
  for (let f = gate.poll(); f !== undefined; f = gate.poll()) out.push(f);
  return out;
}
export const records = (frames: readonly Frame[]): unknown[] => frames.flatMap((f) => (f.kind === 'data' ? f.records! : [`barrier ${f.barrier?.checkpointId}`]));
