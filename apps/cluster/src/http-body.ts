import type { IncomingMessage } from 'node:http';
import { ClusterError } from './coordinator.js';

/** `http.max-body-bytes` by default: a few MiB above the largest example bundle (about 2 KB). */
export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;

const EXCERPT_CHARS = 64;

/**
 * A bounded, escaped excerpt of something a client sent, for an error message: never more than
 * a few dozen characters, control characters and quotes escaped (JSON string rules).
 */
export function excerpt(text: string): string {
  const cut = text.length > EXCERPT_CHARS ? `${text.slice(0, EXCERPT_CHARS)}…` : text;
  return JSON.stringify(cut);
}

/**
 * How much of a refused body is read and dropped so that the client, still sending, gets to read
 * the 413 (a connection closed under a sending client is an EPIPE there, not an answer). Past it
 * the connection is closed.
 */
const DISCARD_BYTES = 64 * 1024 * 1024;

/** Reads and drops the rest of a refused body, up to DISCARD_BYTES; never holds a byte of it. */
function discardRest(req: IncomingMessage): void {
  let dropped = 0;
  req.on('data', (chunk: Buffer) => {
    dropped += chunk.length;
    if (dropped > DISCARD_BYTES) req.socket.destroy();
  });
  req.resume();
}

function tooLarge(limit: number): ClusterError {
  return new ClusterError('BODY_TOO_LARGE', `the request body is larger than http.max-body-bytes (${limit} bytes); raise it with mobius-cluster coordinator --http-max-body-bytes`, 413);
}

/**
 * Reads a request body of at most `limit` bytes: a larger Content-Length is refused before a
 * byte is read, and bytes are counted as they stream (a missing or false Content-Length gains
 * nothing), so no more than `limit` bytes are ever held.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > limit) {
    discardRest(req);
    return Promise.reject(tooLarge(limit));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        chunks.length = 0;
        discardRest(req);
        reject(tooLarge(limit));
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
    req.on('aborted', () => reject(new ClusterError('BAD_REQUEST', 'the request body ended early (the client aborted)', 400)));
  });
}

/** Parses a JSON request body; a syntax error is a 400 that names the expected shape, never the body. */
export function parseJson(text: string, expected: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ClusterError('BAD_REQUEST', `the body must be JSON: ${expected}`, 400);
  }
}
