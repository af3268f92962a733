import { describeTransport } from '@mobius/testkit';
import { afterAll } from 'vitest';
import { threadIndexOf } from './thread-endpoint.js';
import { ThreadHub } from './thread-hub.js';
import { ThreadTransport } from './thread-transport.js';

const hub = new ThreadHub();
afterAll(() => hub.close());

// Both ends in this one thread, through the hub as between threads. The large-frame case (8 MiB)
// goes through the default 1 MiB ring in pieces. No bytes come from a network (no sendRaw);
// a transport can come back at an endpoint by linking its thread index again (createAt).
describeTransport('threads', {
  create: () => new ThreadTransport({ link: hub.link() }),
  createAt: (endpoint) => new ThreadTransport({ link: hub.link(threadIndexOf(endpoint)) }),
  teardown: (t) => t.close(),
});
