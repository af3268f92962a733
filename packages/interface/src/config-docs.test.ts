import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CONFIG_KEYS } from './config.js';

// The README's configuration table must match CONFIG_KEYS, so the docs cannot drift.
const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');

interface Table {
  readonly header: string[];
  readonly rows: string[][];
}

function cells(line: string): string[] {
  return line
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split(/(?<!\\)\|/)
    .map((c) => c.trim());
}

/** Every markdown table of the text. */
function tables(text: string): Table[] {
  const out: Table[] = [];
  const lines = text.split('\n');
  for (let i = 0; i + 1 < lines.length; i++) {
    if (!lines[i].trim().startsWith('|') || !/^\s*\|?\s*:?-{3,}/.test(lines[i + 1])) continue;
    const header = cells(lines[i]).map((h) => h.toLowerCase());
    const rows: string[][] = [];
    let j = i + 2;
    for (; j < lines.length && lines[j].trim().startsWith('|'); j++) rows.push(cells(lines[j]));
    out.push({ header, rows });
    i = j;
  }
  return out;
}

const unquote = (cell: string): string => cell.replace(/^`(.*)`$/, '$1');

const configTable = tables(readme).find((t) => ['key', 'type', 'default', 'scope', 'doc'].every((h) => t.header.includes(h)));

describe('README configuration table', () => {
  it('exists with columns key, type, default, scope and doc', () => {
    expect(configTable, 'README.md has no table with columns key | type | default | scope | doc').toBeDefined();
  });

  const col = (name: string): number => configTable!.header.indexOf(name);
  const rowOf = (key: string): string[] | undefined => configTable!.rows.find((r) => unquote(r[col('key')]) === key);

  it.each(CONFIG_KEYS.map((d) => [d.key, d] as const))('documents %s with its default, type and scope', (key, d) => {
    const row = rowOf(key);
    expect(row, `README.md config table has no row for '${key}'`).toBeDefined();
    expect(unquote(row![col('default')])).toBe(String(d.default));
    expect(row![col('type')]).toBe(d.type);
    expect(row![col('scope')]).toBe(d.scope);
    expect(row![col('doc')]).toBe(d.doc.replace(/\|/g, '\\|'));
  });

  it('documents no key that CONFIG_KEYS lacks', () => {
    const documented = configTable!.rows.map((r) => unquote(r[col('key')]));
    expect(documented.sort()).toEqual(CONFIG_KEYS.map((d) => d.key).sort());
  });

  it('documents the ranges of numeric keys', () => {
    expect(configTable!.header).toContain('range');
    for (const d of CONFIG_KEYS) {
      const range = rowOf(d.key)![col('range')];
      if (d.min !== undefined) expect(range).toMatch(new RegExp(`^${d.min} \\.\\.`));
      if (d.max !== undefined) expect(range).toMatch(new RegExp(`\\.\\. ${d.max}$`));
    }
  });
});
