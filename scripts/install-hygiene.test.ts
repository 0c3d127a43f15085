import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

const root = path.resolve(import.meta.dirname, '..');
const manifest = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { allowScripts?: Record<string, boolean> };
const lock = JSON.parse(readFileSync(path.join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, { hasInstallScript?: boolean }> };

/** npm as the test runner's caller ran it (npm_execpath), else the one on PATH. */
function npm(args: readonly string[]): { status: number | null; stderr: string } {
  const execPath = process.env.npm_execpath ?? '';
  const result = execPath.endsWith('.js')
    ? spawnSync(process.execPath, [execPath, ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 })
    : spawnSync('npm', args, { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stderr: result.stderr };
}

describe('a clean install', () => {
  test('when a locked package has an install script, then package.json approves it by name (allowScripts)', () => {
    const withScripts = Object.entries(lock.packages)
      .filter(([, entry]) => entry.hasInstallScript === true)
      .map(([location]) => location.replace(/^.*node_modules\//, ''));
    const unapproved = withScripts.filter((name) => manifest.allowScripts?.[name] !== true);
    assert.deepEqual(unapproved, [], 'each install script is approved deliberately, or its package avoided');
  });

  test('when the installed tree is listed, then every peer dependency is satisfied (npm prints no ERESOLVE override)', () => {
    const listed = npm(['ls', '--all', '--silent']);
    assert.equal(listed.status, 0, listed.stderr);
  });
});
