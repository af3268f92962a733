import { TransportError } from '@mobius/interface';

const PATTERN = /^thread:\/\/(\d+)\/(\d+)$/;

/** The endpoint of thread `threadIndex` of process `pid`: `thread://<pid>/<threadIndex>`. */
export function threadEndpoint(threadIndex: number, pid: number = process.pid): string {
  return `thread://${pid}/${threadIndex}`;
}

/**
 * The thread index of an endpoint of this process. A malformed endpoint, or one of another
 * process (threads reach only threads of their own process), is a `TransportError`.
 */
export function threadIndexOf(endpoint: string): number {
  const m = PATTERN.exec(endpoint);
  if (m === null) {
    throw new TransportError('TRANSPORT_FAILED', `thread transport: ${JSON.stringify(endpoint)} is not a thread endpoint (thread://<pid>/<threadIndex>)`);
  }
  if (Number(m[1]) !== process.pid) {
    throw new TransportError('TRANSPORT_FAILED', `thread transport: ${endpoint} is in process ${m[1]}, not this one (${process.pid}); use a network transport between processes`);
  }
  return Number(m[2]);
}
