import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prng } from '@mobius/testkit';
import { lostWorkerLines, startLimitedCluster } from './user-code-cluster.js';

type Cluster = Awaited<ReturnType<typeof startLimitedCluster>>;

const BUDGET_MS = 4000;
const MAX_BODY = 256 * 1024;
/** Sent inside bodies; an answer must never carry it whole (errors echo at most a short excerpt). */
const MARKER = '<<fuzz marker: this text must never come back whole in an answer 0123456789>>';

function fuzzCase(rand: () => number) {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const value = (depth: number): unknown =>
    pick<() => unknown>([
      () => null,
      () => rand() * 1e12 - 5e11,
      () => rand() < 0.5,
      () => MARKER.repeat(1 + Math.floor(rand() * 4)),
      () => '',
      () => (depth > 2 ? [] : Array.from({ length: Math.floor(rand() * 4) }, () => value(depth + 1))),
      () => (depth > 2 ? {} : { [MARKER]: value(depth + 1), bundle: value(depth + 1) }),
    ])();
  const template: Record<string, unknown> = { name: value(0), args: value(0), fromSavepoint: value(0), savepoint: value(0), operator: value(0), parallelism: value(0) };
  // A string bundle is planned in a child process: keep those rare, the machine is shared.
  template.bundle = rand() < 0.08 ? `${MARKER} +` : value(0);
  let body = JSON.stringify(template);
  const mutation = pick(['none', 'truncate', 'flip', 'bytes', 'empty', 'huge-string']);
  if (mutation === 'truncate') body = body.slice(0, Math.floor(rand() * body.length));
  if (mutation === 'flip') body = [...body].map((c) => (rand() < 0.05 ? String.fromCharCode(Math.floor(rand() * 256)) : c)).join('');
  if (mutation === 'bytes') body = Array.from({ length: Math.floor(rand() * 2000) }, () => String.fromCharCode(Math.floor(rand() * 65536))).join('') + MARKER;
  if (mutation === 'empty') body = '';
  if (mutation === 'huge-string') body = JSON.stringify({ bundle: MARKER.repeat(Math.ceil((2 * MAX_BODY) / MARKER.length)) });
  const id = pick(['00000000-0000-0000-0000-000000000000', 'nope', encodeURIComponent(MARKER), 'x'.repeat(300)]);
  const path = pick(['/jobs', `/jobs/${id}/cancel`, `/jobs/${id}/savepoint`, `/jobs/${id}/stop`, `/jobs/${id}/rescale`]);
  const contentType = pick([undefined, 'application/json', 'text/plain', 'multipart/form-data; boundary=--x', 'application/json; charset=latin1']);
  const transport = pick(['fetch', 'fetch', 'fetch', 'lying-length', 'huge-length']);
  return { path, body, contentType, transport, mutation };
}

/** Raw HTTP with a Content-Length that does not match what is sent; resolves with whatever came back. */
function rawRequest(port: number, path: string, headers: string, body: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(`POST ${path} HTTP/1.1\r\nhost: fuzz\r\n${headers}\r\n${body}`);
      // The body is cut short: the client goes away, as a crashed one would.
      setTimeout(() => socket.end(), 50);
    });
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (answer += d));
    socket.on('close', () => resolve(answer));
    socket.on('error', () => resolve(answer));
  });
}

describe('HTTP API fuzz', { timeout: 180_000 }, () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startLimitedCluster(['--http-max-body-bytes', String(MAX_BODY), '--plan-concurrency', '2', '--plan-queue-limit', '4', '--plan-timeout-ms', '10000']);
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  it('random and mutated bodies on every POST route: never a 500, never an echo, the coordinator keeps answering', async () => {
    const seed = Number(process.env.MOBIUS_FUZZ_SEED ?? Date.now() % 1_000_000);
    const rand = prng(seed);
    const port = Number(new URL(cluster.url).port);
    const deadline = Date.now() + BUDGET_MS;
    let requests = 0;
    const statuses = new Map<number, number>();
    const one = async (): Promise<void> => {
      const c = fuzzCase(rand);
      const context = `seed ${seed}, ${c.transport} ${c.mutation} POST ${c.path.slice(0, 60)}`;
      let status: number;
      let text: string;
      if (c.transport === 'fetch') {
        const res = await fetch(new URL(c.path, cluster.url), {
          method: 'POST',
          headers: { authorization: `Bearer ${cluster.token}`, ...(c.contentType === undefined ? {} : { 'content-type': c.contentType }) },
          body: c.body,
        });
        status = res.status;
        text = await res.text();
        expect(() => JSON.parse(text), context).not.toThrow();
      } else {
        const length = c.transport === 'huge-length' ? '99999999999999' : String(Buffer.byteLength(c.body) + 1000);
        const answer = await rawRequest(port, c.path, `authorization: Bearer ${cluster.token}\r\ncontent-length: ${length}\r\n`, c.body);
        status = answer === '' ? 0 : Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? -1);
        text = answer;
        // A route that reads a body refuses the length before reading; the others never read it.
        if (c.transport === 'huge-length' && c.path === '/jobs') expect(status, context).toBe(413);
      }
      requests++;
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      expect(status, `${context}: ${text.slice(0, 300)}`).not.toBe(-1);
      // 503 only for a full planning queue (the job may be retried), never an internal error.
      if (status >= 500) expect(status === 503 && text.includes('PLAN_QUEUE_FULL'), `${context}: ${text.slice(0, 300)}`).toBe(true);
      expect(text.includes(MARKER), `${context}: the answer echoed the request`).toBe(false);
      expect(text.length, context).toBeLessThan(10_000);
    };
    const lane = async (): Promise<void> => {
      while (Date.now() < deadline) await one();
    };
    await Promise.all([lane(), lane(), lane(), lane()]);

    expect(requests).toBeGreaterThan(20);
    expect(cluster.coordinator.child.exitCode).toBeNull();
    const workers = await cluster.api.call<unknown[]>('GET', '/workers');
    expect(workers.status).toBe(200);
    expect(workers.body).toHaveLength(2);
    expect(cluster.coordinator.stderr).not.toContain('http request failed');
    expect(lostWorkerLines(cluster.coordinator)).toEqual([]);
    // No fuzz body was a job: nothing was accepted.
    expect((await cluster.api.call<unknown[]>('GET', '/jobs')).body).toEqual([]);
  });
});
