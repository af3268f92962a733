import { StreamingContext } from 'mobius';
import { rmSync } from 'node:fs';
rmSync('/tmp/cmp/ck', { recursive: true, force: true });
const b = StreamingContext.builder().option('checkpoint.interval.ms', 50).option('checkpoint.dir', '/tmp/cmp/ck').option('state.backend', 'level').option('state.level.cache-entries', 5000);
if (process.argv[2]) b.option('failover.strategy', process.argv[2]);
const ctx = b.build();
ctx.readTextFile('/tmp/cmp/corpus.txt').flatMap((l) => l.split(/\s+/).filter((w) => w.length > 0)).map((w) => [w, 1]).keyBy((p) => p[0]).reduce((a, c) => [a[0], a[1] + c[1]]).sink(() => {});
const t = Date.now(); const r = await ctx.execute('c'); console.log(r.state, Date.now() - t, 'ms');
