// The control channel over ZeroMQ: the coordinator's server and the workers' clients, and their options.
export { ZmqControlServer } from './control-server.js';
export { ZmqControlClient } from './control-client.js';
export type { ZmqControlServerOptions, ZmqControlClientOptions, ControlPeerEvent, ControlStats } from './control-options.js';
