// The delivery cases of describeTransport: order, credits, large frames, many channels, frame kinds.
import { makeFrame, type Frame } from '@mobius/interface';
import { expect, it } from 'vitest';
import { collectFrames, frameOf, sendWhenWritable, settle, waitFor, within } from './helpers.js';
import { type TransportSuiteContext } from './transport-suite-context.js';

export function describeDeliveryCases(ctx: TransportSuiteContext): void {
  const { channel, started, link, roundTrip, frames, timeout, waitMs, largeFrameBytes } = ctx;
  it(
    `delivers ${frames} frames in order from one transport to another`,
    async () => {
      const a = await started();
      const b = await started();
      const { ch, tx, rx } = link(a, b, 'order', 16);
      const received = collectFrames(rx, frames, timeout);
      for (let seq = 0; seq < frames; seq++) await sendWhenWritable(tx, frameOf(ch, seq, [seq, `r${seq}`]), waitMs);
      const got = await received;
      const wrong = got.findIndex((f, i) => f.seq !== i || f.channel !== ch || f.kind !== 'data' || f.count !== 2 || f.records?.[0] !== i);
      expect(wrong, wrong < 0 ? '' : `frame #${wrong} is ${JSON.stringify(got[wrong])}`).toBe(-1);
      expect(got[frames - 1].records).toEqual([frames - 1, `r${frames - 1}`]);
      expect(rx.poll()).toBeUndefined();
    },
    timeout,
  );

  it(
    'holds a sender to its credits while the receiver does not poll',
    async () => {
      const a = await started();
      const b = await started();
      const n = 4;
      const { ch, tx, rx } = link(a, b, 'credits', n);
      let readable = 0;
      rx.onReadable(() => readable++);
      expect(tx.credits).toBe(n);
      for (let i = 0; i < n; i++) expect(tx.trySend(frameOf(ch, i, [i])), `frame ${i} within credits`).toBe(true);
      expect(tx.trySend(frameOf(ch, n, [n])), 'a frame beyond the credits').toBe(false);
      expect(tx.credits).toBe(0);
      let writable = false;
      const whenWritable = tx.whenWritable().then(() => {
        writable = true;
      });

      await waitFor(() => readable > 0, 'the first frame to arrive', waitMs);
      // Round trips both ways on other channels: a credit sent without a poll would arrive by now.
      await roundTrip(a, b);
      await roundTrip(b, a);
      await settle();
      expect(writable, 'whenWritable resolved although the receiver never polled').toBe(false);
      expect(tx.trySend(frameOf(ch, n, [n]))).toBe(false);

      expect(rx.poll()?.seq).toBe(0);
      await within(whenWritable, 'whenWritable after one poll', waitMs);
      expect(tx.trySend(frameOf(ch, n, [n])), 'one frame after one poll').toBe(true);
      expect(tx.trySend(frameOf(ch, n + 1, [n + 1])), 'only one').toBe(false);

      const rest = await collectFrames(rx, n, waitMs);
      expect(rest.map((f) => f.seq)).toEqual([1, 2, 3, 4]);
      await roundTrip(a, b);
      expect(rx.poll(), 'nothing beyond the credits was accepted').toBeUndefined();
    },
    timeout,
  );

  it(
    `round-trips one frame of ${(largeFrameBytes / 1048576).toFixed(1)} MiB of records intact`,
    async () => {
      const a = await started();
      const b = await started();
      const { ch, tx, rx } = link(a, b, 'large', 2);
      const chunk = 64 * 1024;
      const count = Math.max(1, Math.ceil(largeFrameBytes / chunk));
      const records = Array.from({ length: count }, (_, i) => ({ i, text: String.fromCharCode(65 + (i % 26)).repeat(chunk - 7) + `#${String(i).padStart(5, '0')}` }));
      const got = collectFrames(rx, 1, timeout);
      expect(tx.trySend(frameOf(ch, 0, records))).toBe(true);
      const [frame] = await got;
      expect(frame.count).toBe(count);
      expect(frame.records).toHaveLength(count);
      const wrong = (frame.records as typeof records).findIndex((r, i) => r.i !== records[i].i || r.text !== records[i].text);
      expect(wrong, `record #${wrong} differs`).toBe(-1);
    },
    timeout,
  );

  it(
    'delivers 100 channels at once, interleaved, each in order',
    async () => {
      const a = await started();
      const b = await started();
      const channels = 100;
      const perChannel = 10;
      const links = Array.from({ length: channels }, (_, i) => link(a, b, `many-${i}`, 4));
      const received = links.map(({ rx }) => collectFrames(rx, perChannel, timeout));
      for (let k = 0; k < perChannel; k++) {
        for (let i = 0; i < channels; i++) await sendWhenWritable(links[i].tx, frameOf(links[i].ch, k, [i * 1000 + k]), waitMs);
      }
      const got = await Promise.all(received);
      got.forEach((list, i) => {
        expect(list.map((f) => [f.channel, f.seq, f.records?.[0]])).toEqual(Array.from({ length: perChannel }, (_, k) => [links[i].ch, k, i * 1000 + k]));
      });
    },
    timeout,
  );

  it(
    'delivers the frames of a sender opened before its receiver',
    async () => {
      const a = await started();
      const b = await started();
      const ch = channel('sender-first');
      const tx = a.openSender(ch, b.endpoint, { credits: 4 });
      for (let i = 0; i < 3; i++) expect(tx.trySend(frameOf(ch, i, [i]))).toBe(true);
      await roundTrip(a, b); // the frames reached b before any receiver exists there
      const rx = b.openReceiver(ch, { credits: 4 });
      const first = await collectFrames(rx, 3, waitMs);
      expect(first.map((f) => f.seq)).toEqual([0, 1, 2]);
      const more = collectFrames(rx, 6, waitMs);
      for (let i = 3; i < 9; i++) await sendWhenWritable(tx, frameOf(ch, i, [i]), waitMs);
      expect((await more).map((f) => f.seq)).toEqual([3, 4, 5, 6, 7, 8]);
    },
    timeout,
  );

  it(
    'carries every frame kind unchanged',
    async () => {
      const a = await started();
      const b = await started();
      const { ch, tx, rx } = link(a, b, 'kinds', 8);
      const sent: Frame[] = [
        makeFrame(ch, 'data', 0, ['x', { nested: [1, 2.5, null, true] }, -3]),
        makeFrame(ch, 'barrier', 3, null, { checkpointId: 7, timestamp: 1_700_000_000_000, type: 'checkpoint' }),
        makeFrame(ch, 'watermark', 3, null, null, 123_456),
        makeFrame(ch, 'determinants', 3, null, null, null, [
          { n: 7, kind: 'order', input: 0, count: 2, value: 0 },
          { n: 8, kind: 'order', input: 1, count: 5, value: 0 },
        ]),
        makeFrame(ch, 'barrier', 3, null, { checkpointId: 8, timestamp: 5, type: 'savepoint' }),
        makeFrame(ch, 'end', 3, null),
      ];
      const got = collectFrames(rx, sent.length, waitMs);
      for (const f of sent) await sendWhenWritable(tx, f, waitMs);
      expect(await got).toEqual(sent);
    },
    timeout,
  );

  it(
    'keeps frames sent before sender.close() readable',
    async () => {
      const a = await started();
      const b = await started();
      const { ch, tx, rx } = link(a, b, 'sender-close', 4);
      const got = collectFrames(rx, 3, waitMs);
      for (let i = 0; i < 3; i++) expect(tx.trySend(frameOf(ch, i, [i]))).toBe(true);
      tx.close();
      expect((await got).map((f) => f.seq)).toEqual([0, 1, 2]);
    },
    timeout,
  );
}
