// The settings both rescale benchmarks share (rescale-bench.mjs, rescale-cluster-bench.mjs).
export const QUICK = process.argv.includes('--quick');
/** Keys of the reduce's state, each with a 1000-byte payload. */
export const KEYS = Number(process.env.BENCH_RESCALE_KEYS ?? (QUICK ? 10_000 : 100_000));
/** Records arriving in the log per second, over every partition. */
export const RATE = Number(process.env.BENCH_RESCALE_RATE ?? 20_000);
export const VARIANTS = (process.env.BENCH_RESCALE_VARIANTS ?? 'live,flink').split(',').map((s) => s.trim());
/** After the state is loaded, before the baseline. */
export const WARMUP_MS = 3000;
export const BASELINE_MS = QUICK ? 3000 : 5000;
/** The window after the request that the throughput and the gaps are measured over. */
export const AFTER_MS = 10_000;

for (const v of VARIANTS) if (v !== 'live' && v !== 'flink') throw new Error(`BENCH_RESCALE_VARIANTS: unknown variant "${v}" (live, flink)`);
if (!(KEYS >= 1000) || !(RATE > 0)) throw new Error(`BENCH_RESCALE_KEYS must be at least 1000 and BENCH_RESCALE_RATE above 0 (got ${KEYS}, ${RATE})`);
