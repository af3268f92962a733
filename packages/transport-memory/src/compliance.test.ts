import { describeTransport } from '@mobius/testkit';
import { MemoryTransport } from './memory-transport.js';

let n = 0;

// The memory transport passes the same suite as every other transport. It takes no bytes from a
// network, so the malformed-input test is skipped (no sendRaw); it can come back at an endpoint
// name, so the peer-reconnected test runs (createAt).
describeTransport('memory', {
  create: () => new MemoryTransport({ name: `compliance-${process.pid}-${++n}` }),
  createAt: (endpoint) => new MemoryTransport({ name: endpoint.slice('memory://'.length) }),
  teardown: (t) => t.close(),
});
