import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { configTableMarkdown } from './config-table.ts';

test('when the config schema changes, then the README table must change with it', async () => {
  const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8');
  const table = configTableMarkdown();
  assert.ok(readme.includes(table), `README.md's configuration table is out of date; replace it with the output of \`node scripts/config-table.ts\`:\n${table}`);
});
