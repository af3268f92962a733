import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger, type Logger } from '@mobius/interface';
import { Coordinator } from './coordinator.js';
import { createHttpApi, listen } from './http-api.js';
import { bundleJob } from '@mobius/job-loader';

const fixture = fileURLToPath(new URL('../test-fixtures/small-job.ts', import.meta.url));

function recordingLogger(lines: string[]): Logger {
  const log = (obj: object, msg?: string): void => {
    lines.push(`${msg ?? ''} ${JSON.stringify(obj)}`);
  };
  const logger: Logger = { debug: log, info: log, warn: log, error: log, child: () => logger };
  return logger;
}

describe('the coordinator HTTP API', () => {
  const logs: string[] = [];
  let coordinator: Coordinator;
  let server: Server;
  let url = '';
  const call = async (method: string, path: string, body?: unknown, token: string | null = 's3cret') => {
    const res = await fetch(new URL(path, url), {
      method,
      headers: token === null ? {} : { authorization: `Bearer ${token}` },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> & { error?: { code: string; message: string } } };
  };

  beforeAll(async () => {
    const logger = recordingLogger(logs);
    coordinator = new Coordinator({ port: 0, token: 's3cret', logger });
    await coordinator.start();
    server = createHttpApi(coordinator, logger);
    url = `http://127.0.0.1:${await listen(server, '127.0.0.1', 0)}`;
  });
  afterAll(async () => {
    server.close();
    await coordinator.stop();
  });

  it('GET /health needs no token', async () => {
    expect(await call('GET', '/health', undefined, null)).toEqual({ status: 200, body: { ok: true } });
  });

  it('refuses requests without the token or with a wrong one, and logs them', async () => {
    const none = await call('GET', '/jobs', undefined, null);
    expect(none.status).toBe(401);
    expect(none.body.error?.code).toBe('UNAUTHORIZED');
    expect((await call('POST', '/jobs', { bundle: 'x' }, 'nope')).status).toBe(401);
    expect(logs.some((l) => l.startsWith('http request refused') && l.includes('missing token'))).toBe(true);
    expect(logs.some((l) => l.startsWith('http request refused') && l.includes('wrong token'))).toBe(true);
  });

  it('lists jobs and workers (none yet)', async () => {
    expect(await call('GET', '/jobs')).toEqual({ status: 200, body: [] });
    expect(await call('GET', '/workers')).toEqual({ status: 200, body: [] });
  });

  it('validates the body of POST /jobs', async () => {
    expect((await call('POST', '/jobs', 'not json')).body.error?.message).toMatch(/the body must be JSON/);
    expect((await call('POST', '/jobs', { name: 'x' })).body.error?.message).toMatch(/needs a 'bundle' string/);
    expect((await call('POST', '/jobs', { bundle: 'x', name: 3 })).status).toBe(400);
  });

  // Each bundle is planned in a child process of its own: generous on a loaded machine.
  it('a bundle that submits nothing, or cannot be planned, is a 400 naming the problem', { timeout: 60_000 }, async () => {
    const empty = await call('POST', '/jobs', { bundle: 'export const x = 1;' });
    expect(empty.status).toBe(400);
    expect(empty.body.error?.message).toMatch(/did not submit a job/);
    const bad = await call('POST', '/jobs', { bundle: "import { StreamingContext } from 'mobius';\nconst c = StreamingContext.builder().option('no.such', 1).build();\nc.fromValues(1).sink(() => {});\nawait c.execute('bad');\n" });
    expect(bad.status).toBe(400);
    expect(bad.body.error?.message).toMatch(/unknown config key 'no\.such'/);
  });

  it('a job needing more slots than the cluster has is refused with both numbers', async () => {
    const bundle = await bundleJob(fixture);
    const res = await call('POST', '/jobs', { bundle });
    expect(res.status).toBe(409);
    expect(res.body.error?.code).toBe('INSUFFICIENT_SLOTS');
    expect(res.body.error?.message).toBe('job needs 2 slots but the cluster has 0 free of 0');
  });

  it('unknown jobs and routes are 404', async () => {
    expect((await call('GET', '/jobs/nope')).body.error?.message).toBe("no job with id 'nope'");
    expect((await call('POST', '/jobs/nope/cancel')).status).toBe(404);
    expect((await call('DELETE', '/jobs')).status).toBe(404);
  });

  it('malformed HTTP gets a 400 and the server keeps serving', async () => {
    const reply = await new Promise<string>((resolve) => {
      let data = '';
      const socket = connect(Number(new URL(url).port), '127.0.0.1', () => socket.write('\x00\x01garbage\r\n\r\n'));
      socket.on('data', (d) => (data += d.toString()));
      socket.on('close', () => resolve(data));
    });
    expect(reply).toMatch(/^HTTP\/1.1 400/);
    expect((await call('GET', '/health', undefined, null)).status).toBe(200);
  });
});

describe('the coordinator', () => {
  it('refuses to listen beyond loopback without a token', () => {
    expect(() => new Coordinator({ host: '0.0.0.0', logger: silentLogger })).toThrow(/a token is required to listen on 0\.0\.0\.0/);
  });
});
