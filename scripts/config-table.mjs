#!/usr/bin/env node
// Regenerates the configuration tables of the READMEs from the declarations (the built
// packages): the engine's keys (CONFIG_KEYS) in packages/interface/README.md, and each plugin's
// own keys in its README: `node scripts/config-table.mjs`. The packages' config docs tests fail
// when a table and its declarations differ.
import { readFileSync, writeFileSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;
const HEADER = '| key | type | default | scope | range | doc |';

const range = (d) =>
  d.values ? d.values.join(', ') : d.pluginKinds ? 'registered kinds' : d.min !== undefined || d.max !== undefined ? `${d.min ?? ''} ..${d.max !== undefined ? ` ${d.max}` : ''}` : '';

function writeTable(readme, declarations) {
  const rows = declarations.map((d) => `| \`${d.key}\` | ${d.type} | \`${String(d.default)}\` | ${d.scope} | ${range(d)} | ${d.doc.replace(/\|/g, '\\|')} |`);
  const table = [HEADER, '|---|---|---|---|---|---|', ...rows].join('\n');
  const path = `${root}${readme}`;
  const text = readFileSync(path, 'utf8');
  const start = text.indexOf(HEADER);
  if (start < 0) throw new Error(`${readme} has no line '${HEADER}' to replace`);
  const lines = text.slice(start).split('\n');
  let n = 0;
  while (n < lines.length && lines[n].startsWith('|')) n++;
  const end = start + lines.slice(0, n).join('\n').length;
  writeFileSync(path, text.slice(0, start) + table + text.slice(end));
  console.log(`${declarations.length} keys written to ${path}`);
}

const { CONFIG_KEYS } = await import(`${root}packages/interface/dist/index.js`);
writeTable('packages/interface/README.md', CONFIG_KEYS);
const { LevelOptions } = await import(`${root}packages/state-level/dist/index.js`);
writeTable('packages/state-level/README.md', Object.values(LevelOptions));
