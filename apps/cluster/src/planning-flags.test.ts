import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const cli = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

describe('mobius-cluster coordinator: planning and body-limit flags', { timeout: 30_000 }, () => {
  it.each([
    ['--plan-timeout-ms', '0'],
    ['--plan-max-heap-mb', '8'],
    ['--plan-concurrency', 'many'],
    ['--plan-queue-limit', '-1'],
    ['--http-max-body-bytes', '0'],
  ])('%s %s is a usage error naming the flag', (flag, value) => {
    expect(existsSync(cli), `${cli} is missing: build first`).toBe(true);
    const r = spawnSync(process.execPath, [cli, 'coordinator', '--port', '0', '--http-port', '0', flag, value], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${flag} must be an integer of at least`);
  });
});
