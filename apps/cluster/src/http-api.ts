import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@mobius/interface';
import { ClusterError, type Coordinator } from './coordinator.js';
import { resultsPage } from './collect-store.js';
import { createMetrics } from './metrics.js';
import { rescaleRequestOf, startRescale } from './rescale-request.js';
import { tokenMatches } from './token.js';
import { DEFAULT_MAX_BODY_BYTES, excerpt, parseJson, readBody } from './http-body.js';

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** A job name is shown in lists, logs and metric labels: long enough for any real one. */
const MAX_NAME_CHARS = 200;

export interface HttpApiOptions {
  /** `http.max-body-bytes`: larger request bodies are refused with 413 before they are parsed. */
  readonly maxBodyBytes?: number;
}

/** A job id from the URL, refused (404, bounded excerpt) when it cannot be one. */
function jobIdOf(part: string): string {
  if (!/^[A-Za-z0-9_-]{1,100}$/.test(part)) throw new ClusterError('UNKNOWN_JOB', `no job with id ${excerpt(part)}`, 404);
  return part;
}

/**
 * The coordinator's JSON API, and its Prometheus metrics at `GET /metrics`. Every route but
 * `GET /health` needs `Authorization: Bearer TOKEN` when the coordinator has a token; a refused
 * request is logged.
 */
export function createHttpApi(coordinator: Coordinator, logger: Logger, options: HttpApiOptions = {}): Server {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!Number.isInteger(maxBodyBytes) || maxBodyBytes < 1) throw new ClusterError('CONFIG_INVALID_VALUE', `http.max-body-bytes must be a positive integer, got ${String(maxBodyBytes)}`, 500);
  const metrics = createMetrics(coordinator);
  const server = createServer((req, res) => {
    void route(req, res).catch((e: unknown) => {
      const status = e instanceof ClusterError ? e.status : 500;
      // 503 is a known state (a full planning queue, logged where it is decided), not a fault.
      if (status >= 500 && status !== 503) logger.error({ err: e, method: req.method, url: req.url?.slice(0, 200) }, 'http request failed');
      else if (status === 413) logger.warn({ method: req.method, url: req.url?.slice(0, 200), remote: req.socket.remoteAddress, contentLength: req.headers['content-length'] }, 'http request body refused: over http.max-body-bytes');
      if (res.headersSent) {
        res.destroy();
        return;
      }
      send(res, status, { error: { code: (e as { code?: string }).code ?? 'INTERNAL', message: e instanceof Error ? e.message : String(e) } });
    });
  });
  // Garbage on the port: answer 400 and close, never crash.
  server.on('clientError', (err, socket) => {
    logger.warn({ err: err.message, remote: (socket as { remoteAddress?: string }).remoteAddress }, 'malformed http request rejected');
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n');
    else socket.destroy();
  });

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local');
    const parts = url.pathname.split('/').filter((p) => p !== '');
    const method = req.method ?? 'GET';
    if (method === 'GET' && url.pathname === '/health') return send(res, 200, { ok: true });

    const auth = req.headers.authorization;
    const given = auth?.startsWith('Bearer ') ? auth.slice(7) : undefined;
    if (!tokenMatches(coordinator.token, given)) {
      logger.warn({ method, url: url.pathname, remote: req.socket.remoteAddress, reason: given === undefined ? 'missing token' : 'wrong token' }, 'http request refused');
      throw new ClusterError('UNAUTHORIZED', 'missing or wrong token: send Authorization: Bearer <token>', 401);
    }

    if (method === 'GET' && url.pathname === '/metrics') {
      const text = await metrics.render();
      res.writeHead(200, { 'content-type': metrics.registry.contentType, 'content-length': Buffer.byteLength(text) });
      res.end(text);
      return;
    }
    if (parts[0] === 'jobs') {
      if (parts.length === 1 && method === 'GET') return send(res, 200, [...coordinator.jobs.values()].map((j) => j.summary()));
      if (parts.length === 1 && method === 'POST') {
        const body = parseJson(await readBody(req, maxBodyBytes), '{ "bundle": "<job module source>", "name"?: "..." }') as { bundle?: unknown; name?: unknown; fromSavepoint?: unknown; args?: unknown } | null;
        if (typeof body?.bundle !== 'string' || body.bundle.length === 0) throw new ClusterError('BAD_REQUEST', "the body needs a 'bundle' string (the bundled job module)", 400);
        if (body.name !== undefined && (typeof body.name !== 'string' || body.name.length > MAX_NAME_CHARS)) throw new ClusterError('BAD_REQUEST', `'name' must be a string of at most ${MAX_NAME_CHARS} characters`, 400);
        if (body.fromSavepoint !== undefined && typeof body.fromSavepoint !== 'string') throw new ClusterError('BAD_REQUEST', "'fromSavepoint' must be a savepoint folder path", 400);
        if (body.args !== undefined && (!Array.isArray(body.args) || body.args.some((a) => typeof a !== 'string'))) throw new ClusterError('BAD_REQUEST', "'args' must be an array of strings", 400);
        const job = await coordinator.submit(body.bundle, body.name, body.fromSavepoint, (body.args as string[] | undefined) ?? []);
        return send(res, 201, { ...job.summary(), graphHash: job.plan.graphHash, collectSinks: job.plan.operators.filter((o) => o.kind === 'collect').map((o) => o.id) });
      }
      if (parts.length >= 2) jobIdOf(parts[1]);
      if (parts.length === 2 && method === 'GET') return send(res, 200, coordinator.job(parts[1]).details());
      if (parts.length === 3 && parts[2] === 'events' && method === 'GET') return send(res, 200, coordinator.job(parts[1]).eventList());
      if (parts.length === 3 && parts[2] === 'results' && method === 'GET') {
        const from = Number(url.searchParams.get('from') ?? '0');
        if (!Number.isInteger(from) || from < 0) throw new ClusterError('BAD_REQUEST', "'from' must be a record offset (an integer of at least 0)", 400);
        const page = resultsPage(coordinator.collected, coordinator.job(parts[1]), url.searchParams.get('collect') ?? undefined, from);
        if (page === undefined) throw new ClusterError('NO_COLLECT_SINK', `job ${parts[1]} has no such collect sink (executeAndCollect(), collectAsync())`, 404);
        return send(res, 200, page);
      }
      if (parts.length === 3 && parts[2] === 'cancel' && method === 'POST') return send(res, 202, coordinator.cancel(parts[1]).summary());
      if (parts.length === 3 && parts[2] === 'rescale' && method === 'POST') {
        const request = rescaleRequestOf(parseJson(await readBody(req, maxBodyBytes), '{ "operator": "<id, uid or name>", "parallelism": N }'));
        const accepted = startRescale(coordinator.job(parts[1]), request);
        logger.info({ jobId: parts[1], rescale: accepted.id, operator: request.operator, parallelism: request.parallelism }, 'live rescale requested');
        return send(res, 202, accepted);
      }
      if (parts.length === 3 && parts[2] === 'savepoint' && method === 'POST') return send(res, 200, await coordinator.savepoint(parts[1]));
      if (parts.length === 3 && parts[2] === 'stop' && method === 'POST') {
        const text = await readBody(req, maxBodyBytes);
        const options = text === '' ? {} : (parseJson(text, '{ "savepoint"?: true }') as { savepoint?: unknown } | null);
        const savepoint = options?.savepoint === true ? await coordinator.savepoint(parts[1]) : undefined;
        return send(res, 202, { ...coordinator.cancel(parts[1]).summary(), savepoint: savepoint ?? null });
      }
    }
    if (parts[0] === 'workers' && parts.length === 1 && method === 'GET') return send(res, 200, coordinator.workerSummaries());
    if (parts[0] === 'workers' && parts.length === 3 && parts[2] === 'ping' && method === 'POST') return send(res, 200, await coordinator.pingWorker(parts[1]));
    throw new ClusterError('NOT_FOUND', `no route ${method} ${excerpt(url.pathname)}`, 404);
  }

  return server;
}

/** Listens and resolves with the actual port. */
export function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}
