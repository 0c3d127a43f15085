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
  test('when a locked package has an install script, then package.json approves or refuses it by name (allowScripts)', () => {
    const withScripts = Object.entries(lock.packages)
      .filter(([, entry]) => entry.hasInstallScript === true)
      .map(([location]) => location.replace(/^.*node_modules\//, ''));
    // true: the script runs (embedded PostgreSQL's binaries); false: refused on purpose (a dev tool's
    // install telemetry, @scarf/scarf, which the asyncapi parser's linter pulls in and nothing needs).
    const undecided = withScripts.filter((name) => typeof manifest.allowScripts?.[name] !== 'boolean');
    assert.deepEqual(undecided, [], 'each install script is approved or refused deliberately, or its package avoided');
  });

  test('when the installed tree is listed, then every peer dependency is satisfied (npm prints no ERESOLVE override)', () => {
    const listed = npm(['ls', '--all', '--silent']);
    assert.equal(listed.status, 0, listed.stderr);
  });
});
