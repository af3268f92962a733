#!/usr/bin/env node
// Regenerates the configuration table of packages/interface/README.md from CONFIG_KEYS (the
// built package): `node scripts/config-table.mjs`. config-docs.test.ts fails when they differ.
import { readFileSync, writeFileSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;
const { CONFIG_KEYS } = await import(`${root}packages/interface/dist/index.js`);
const range = (d) => (d.values ? d.values.join(', ') : d.min !== undefined || d.max !== undefined ? `${d.min ?? ''} ..${d.max !== undefined ? ` ${d.max}` : ''}` : '');
const rows = CONFIG_KEYS.map((d) => `| \`${d.key}\` | ${d.type} | \`${String(d.default)}\` | ${d.scope} | ${range(d)} | ${d.doc.replace(/\|/g, '\\|')} |`);
const table = ['| key | type | default | scope | range | doc |', '|---|---|---|---|---|---|', ...rows].join('\n');
const path = `${root}packages/interface/README.md`;
const text = readFileSync(path, 'utf8');
const start = text.indexOf('| key | type | default | scope | range | doc |');
let end = start;
const lines = text.slice(start).split('\n');
let n = 0;
while (n < lines.length && lines[n].startsWith('|')) n++;
end = start + lines.slice(0, n).join('\n').length;
writeFileSync(path, text.slice(0, start) + table + text.slice(end));
console.log(`${CONFIG_KEYS.length} keys written to ${path}`);
