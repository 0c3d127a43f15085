import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';

const root = path.resolve(import.meta.dirname, '..');
const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  engines: { node: string };
  devEngines: { runtime: { name: string; version: string; onFail: string } };
  scripts: Record<string, string>;
};
const minimum = /^>=(\d+)\.(\d+)$/.exec(manifest.engines.node);

/** Runs the version check as it sits beside a package.json that asks for `range`. */
function checkAgainst(range: string): { status: number | null; stderr: string; stdout: string } {
  const folder = mkdtempSync(path.join(tmpdir(), 'orderstream-node-version-'));
  folders.push(folder);
  mkdirSync(path.join(folder, 'bin'));
  copyFileSync(path.join(root, 'bin/node-version.js'), path.join(folder, 'bin/node-version.js'));
  writeFileSync(path.join(folder, 'package.json'), JSON.stringify({ type: 'module', engines: { node: range } }));
  const result = spawnSync(process.execPath, [path.join(folder, 'bin/node-version.js')], { encoding: 'utf8', timeout: 10_000 });
  return { status: result.status, stderr: result.stderr, stdout: result.stdout };
}
const folders: string[] = [];

describe('the Node.js version check', () => {
  after(() => { for (const folder of folders) rmSync(folder, { recursive: true, force: true }); });

  test('when Node.js is older than engines.node, then the check stops with one line naming both versions and how to get the right one', () => {
    const result = checkAgainst('>=99.1.0');
    assert.equal(result.status, 1);
    assert.equal(result.stdout, '');
    const lines = result.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, result.stderr);
    assert.match(lines[0] ?? '', /needs Node\.js 99\.1\.0 or newer/);
    assert.ok(lines[0]?.includes(`this is Node.js ${process.versions.node}`), lines[0]);
    assert.match(lines[0] ?? '', /nvm install/);
  });

  test('when Node.js is new enough, then the check says nothing and lets the command run', () => {
    const result = checkAgainst('>=1.0');
    assert.equal(result.status, 0);
    assert.equal(result.stderr, '');
  });

  test('when engines.node is not a plain minimum, then the check refuses to guess', () => {
    const result = checkAgainst('^22 || ^24');
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /engines\.node must read/);
  });

  test('when the versions are read from package.json, .nvmrc, devEngines, CI and the README, then they all name the same minimum', () => {
    assert.ok(minimum !== null, `engines.node reads ">=MAJOR.MINOR": ${manifest.engines.node}`);
    const [, major, minor] = minimum;
    assert.deepEqual(manifest.devEngines.runtime, { name: 'node', version: manifest.engines.node, onFail: 'error' });
    const nvmrc = Number(readFileSync(path.join(root, '.nvmrc'), 'utf8').trim());
    assert.ok(nvmrc > Number(major), `.nvmrc (${String(nvmrc)}) names a release newer than the minimum`);
    assert.match(readFileSync(path.join(root, '.ci/run'), 'utf8'), new RegExp(`minimum_node='${major ?? ''}\\.${minor ?? ''}'`));
    assert.match(readFileSync(path.join(root, 'README.md'), 'utf8'), new RegExp(`Needs Node\\.js ${major ?? ''}\\.${minor ?? ''} or newer \\(Node ${String(nvmrc)} recommended\\)`));
  });

  test('when an npm script runs the TypeScript sources, then it goes through the version check first', () => {
    for (const [name, script] of Object.entries(manifest.scripts)) {
      // An inline program that runs no TypeScript (`prepare`, which also runs where bin/ is absent) needs no check.
      if (!/\bnode\b/.test(script) || (/\s-e\s/.test(script) && !/\.ts\b/.test(script))) continue;
      assert.ok(script.includes('bin/orderstream.js') || script.includes('--import ./bin/node-version.js'), `npm run ${name}: ${script}`);
    }
  });
});
