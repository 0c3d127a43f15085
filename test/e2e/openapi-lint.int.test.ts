import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { servedDocument } from './harness/served-document.ts';

const root = path.resolve(import.meta.dirname, '../..');
const cli = path.join(root, 'node_modules/@redocly/cli/bin/cli.js');

interface LintProblem { ruleId: string; severity: string; message: string; location?: { pointer?: string }[] }

/** The linter's problems with `document`, by the ruleset in redocly.yaml. */
async function lint(document: unknown): Promise<LintProblem[]> {
  const folder = await mkdtemp(path.join(tmpdir(), 'orderstream-openapi-lint-'));
  try {
    const file = path.join(folder, 'openapi.json');
    await writeFile(file, JSON.stringify(document));
    // The linter exits 1 when it finds errors; the JSON report on stdout says which.
    const result = await promisify(execFile)(process.execPath, [cli, 'lint', file, '--config', path.join(root, 'redocly.yaml'), '--format', 'json'], {
      cwd: root, maxBuffer: 64 * 1024 * 1024,
      // No usage data leaves the machine, and no update check is made.
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    }).catch((error: unknown) => error as { stdout?: string; stderr?: string });
    const report = JSON.parse(result.stdout ?? '') as { problems?: LintProblem[] };
    assert.ok(Array.isArray(report.problems), `the linter gave no report: ${result.stderr ?? ''}`);
    return report.problems;
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

test('when the app\'s /openapi.json is linted with redocly.yaml, then it has no errors (operation ids, problem+json refusals, request-body examples)', async () => {
  const errors = (await lint(await servedDocument('/openapi.json'))).filter((problem) => problem.severity === 'error');
  const listed = errors.map((problem) => `${problem.ruleId} at ${problem.location?.[0]?.pointer ?? '?'}: ${problem.message}`);
  assert.deepEqual(listed, [], `/openapi.json breaks redocly.yaml:\n${listed.join('\n')}`);
});
