import { request, type Server } from 'node:http';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '@mobius/interface';
import { Coordinator } from './coordinator.js';
import { createHttpApi, listen } from './http-api.js';

const LIMIT = 64 * 1024;
const MARKER = 'ECHO-ME-IF-YOU-DARE';

/** Sends raw bytes on a fresh connection and resolves with everything the server answered. */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(bytes));
    let answer = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      answer += d;
      // One answer is all a test needs; a server keeping the connection open must not hang it.
      if (/\r\n\r\n/.test(answer) && answer.includes('}')) socket.end();
    });
    socket.on('end', () => resolve(answer));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

describe('bounded HTTP bodies (http.max-body-bytes)', () => {
  let coordinator: Coordinator;
  let server: Server;
  let port = 0;
  let url = '';

  beforeAll(async () => {
    coordinator = new Coordinator({ port: 0, logger: silentLogger });
    await coordinator.start();
    server = createHttpApi(coordinator, silentLogger, { maxBodyBytes: LIMIT });
    port = await listen(server, '127.0.0.1', 0);
    url = `http://127.0.0.1:${port}`;
  });
  afterAll(async () => {
    server.close();
    await coordinator.stop();
  });

  it('refuses a body over the limit with 413, without echoing it, and keeps serving', async () => {
    const body = JSON.stringify({ bundle: MARKER.repeat(Math.ceil((4 * LIMIT) / MARKER.length)) });
    const res = await fetch(`${url}/jobs`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    const text = await res.text();
    expect(res.status).toBe(413);
    expect(JSON.parse(text)).toEqual({ error: { code: 'BODY_TOO_LARGE', message: expect.stringContaining(`http.max-body-bytes (${LIMIT} bytes)`) } });
    expect(text).not.toContain(MARKER);
    expect((await fetch(`${url}/workers`)).status).toBe(200);
  });

  it('refuses a huge Content-Length before reading the body', async () => {
    const answer = await raw(port, `POST /jobs HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 99999999999\r\n\r\n{"bundle":"${MARKER}`);
    expect(answer).toMatch(/^HTTP\/1.1 413/);
    expect(answer).not.toContain(MARKER);
  });

  it('counts streamed bytes when no Content-Length is sent (chunked)', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${url}/jobs`, { method: 'POST', headers: { 'transfer-encoding': 'chunked' } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      const chunk = 'x'.repeat(16 * 1024);
      let sent = 0;
      const pump = (): void => {
        while (sent < 8 * LIMIT) {
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    expect(status).toBe(413);
  });

  it('a body under the limit is read and parsed as before', async () => {
    const res = await fetch(`${url}/jobs`, { method: 'POST', body: JSON.stringify({ bundle: 42 }) });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('BAD_REQUEST');
  });

  it('a malformed stop body is a 400, and a long path is echoed only as a bounded excerpt', async () => {
    const stop = await fetch(`${url}/jobs/some-job/stop`, { method: 'POST', body: `{"savepoint": ${MARKER}` });
    expect(stop.status).toBe(400);
    expect(await stop.text()).not.toContain(MARKER);
    const long = `/nowhere/${MARKER.repeat(50)}`;
    const missing = await fetch(`${url}${long}`);
    const text = await missing.text();
    expect(missing.status).toBe(404);
    expect(text.length).toBeLessThan(300);
    const job = await fetch(`${url}/jobs/${'%3Cscript%3E'.repeat(100)}`);
    expect(job.status).toBe(404);
    expect((await job.text()).length).toBeLessThan(300);
  });
});
