import type { Socket } from 'node:net';

/**
 * Ends a socket after its queued bytes are written (or destroys it at once when `graceful` is
 * false), and resolves once it is closed; destroys it if it is still open at `deadline`, so a
 * peer that never answers cannot keep the process alive.
 */
export function endSocket(socket: Socket, deadline: number, graceful = true): Promise<void> {
  if (socket.closed) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => socket.destroy(), Math.max(0, deadline - Date.now()));
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    if (graceful) socket.end();
    else socket.destroy();
  });
}
