/**
 * A worker's heartbeat thread talks to the coordinator on a control connection of its own (a
 * ZeroMQ socket belongs to one thread): its routing id is the worker's id with this suffix, so
 * the coordinator knows whose heartbeats it carries and that it is no worker of its own.
 */
const SUFFIX = '#heartbeat';

/** The control peer id of worker `workerId`'s heartbeat thread. */
export function heartbeatPeerId(workerId: string): string {
  return `${workerId}${SUFFIX}`;
}

/** The worker whose heartbeat thread is `peer`, or undefined when `peer` is no heartbeat thread. */
export function workerOfHeartbeatPeer(peer: string): string | undefined {
  return peer.endsWith(SUFFIX) ? peer.slice(0, -SUFFIX.length) : undefined;
}
