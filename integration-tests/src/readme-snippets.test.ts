import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { repoRoot } from './helpers.js';

/**
 * Every ```ts block of a README that imports something is a whole example and must type-check
 * against the built packages as written (strict). A block fenced ```ts fragment (GitHub reads
 * the first word only) is a piece of a larger program and is skipped.
 */

interface Snippet {
  readonly file: string;
  readonly name: string;
  readonly code: string;
}

function snippets(): Snippet[] {
  const files = execFileSync('git', ['ls-files', '*README.md'], { cwd: repoRoot, encoding: 'utf8' }).split('\n').filter(Boolean);
  const result: Snippet[] = [];
  for (const file of files) {
    const text = readFileSync(join(repoRoot, file), 'utf8');
    let i = 0;
    for (const m of text.matchAll(/^```ts\n([\s\S]*?)^```/gm)) {
      if (/^import /m.test(m[1])) result.push({ file, name: `${file.replace(/[^\w]+/g, '_')}_${i}.ts`, code: m[1] });
      i++;
    }
  }
  return result;
}

/** Type-checks the snippets as modules under integration-tests (where every package resolves). */
function typeCheck(list: readonly Snippet[]): string {
  const dir = join(repoRoot, 'integration-tests/.tmp', `readme-snippets-${randomUUID().slice(0, 8)}`);
  dirs.push(dir);
  mkdirSync(dir, { recursive: true });
  for (const s of list) writeFileSync(join(dir, s.name), `${s.code}\nexport {};\n`);
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ extends: '../../../tsconfig.base.json', compilerOptions: { noEmit: true }, files: list.map((s) => s.name) }));
  const tsc = spawnSync(process.execPath, [join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'tsconfig.json')], { encoding: 'utf8' });
  return tsc.stdout + tsc.stderr;
}

const dirs: string[] = [];

describe('README code examples', () => {
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('type-check as written, withConfig(key, value) of the interface README included', () => {
    const list = snippets();
    expect(list.some((s) => s.file === 'packages/interface/README.md' && s.code.includes(".withConfig('runtime.batch.size', 64)"))).toBe(true);
    expect(list.length).toBeGreaterThan(15);
    expect(typeCheck(list)).toBe('');
  }, 300_000);

  it('the check catches the old withConfig({ key: value }) example', () => {
    const bad = "import { StreamingContext } from 'mobius';\nconst ctx = StreamingContext.builder().build();\nctx.fromValues(1).map((x) => x).withConfig({ 'runtime.batch.size': 64 }).sink(() => {});\n";
    expect(typeCheck([{ file: 'bad', name: 'bad.ts', code: bad }])).toMatch(/bad\.ts\(3,\d+\): error TS2554/);
  }, 300_000);
});
