import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { serverNodeFlags } from './server-node-flags.ts';

const projectRoot = path.resolve(import.meta.dirname, '../..');

test('when OrderStream is started with npm start, then node runs it with the server flags', async () => {
  const manifest = JSON.parse(await readFile(path.join(projectRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  assert.equal(manifest.scripts.start, `node ${serverNodeFlags.join(' ')} bin/orderstream.js start`);
});

test('when node runs with the server flags, then V8 takes them: the heap limit is the old space\'s plus the young generation\'s', () => {
  const limitMb = Number(execFileSync(process.execPath, [...serverNodeFlags, '-p', 'Math.round(require("node:v8").getHeapStatistics().heap_size_limit / 1048576)'], { encoding: 'utf8' }));
  const flag = (name: string) => Number(new RegExp(`--${name}=(\\d+)`).exec(serverNodeFlags.join(' '))?.[1]);
  // The young generation adds three semi-spaces to the old space's limit; Node's own default adds up to 192 MB.
  assert.equal(limitMb, flag('max-old-space-size') + 3 * flag('max-semi-space-size'));
});
