import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusPath, readText, referenceCounts, sortedEntries, tempDir } from './helpers.js';
import { readCounts, startCluster, submitWordCountOnCluster } from './cluster-helpers.js';

type Cluster = Awaited<ReturnType<typeof startCluster>>;

// The example plugin (examples/net-transport) as the data transport of real worker processes:
// each worker imports '@mobius/example-transport-net' and calls its createTransport().
describe('a cluster whose workers use the third-party net transport', () => {
  let cluster: Cluster;
  const tmp = tempDir('mobius-net-transport-');
  const reference = sortedEntries(referenceCounts(readText(corpusPath)));

  beforeAll(async () => {
    cluster = await startCluster(2, { transport: '@mobius/example-transport-net' });
  });
  afterAll(async () => {
    await cluster?.stop();
    tmp.remove();
  });

  it('runs the word count at parallelism 2 with the reduce tasks on different workers, and gets the reference counts', async () => {
    const out = join(tmp.dir, 'net-out');
    await submitWordCountOnCluster(cluster, corpusPath, out);
    expect(sortedEntries(readCounts(out))).toEqual(reference);

    // The workers really run the plugin: they advertise its tcp:// endpoints and logged no transport errors.
    const workers = (await cluster.api.call<{ address: string }[]>('GET', '/workers')).body;
    expect(workers).toHaveLength(2);
    for (const w of workers) expect(w.address).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);
    for (const w of cluster.workers) {
      expect(w.stderr).toMatch(/"component":"transport-net".*"msg":"net transport listening"/);
      expect(w.stderr).not.toMatch(/malformed message dropped|peer lost/);
    }
  });
});
