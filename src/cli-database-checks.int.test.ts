import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import path from 'node:path';
import { describe, test } from 'node:test';
import { minimumPostgresVersion } from './platform/database/connection-failure.ts';
import { startFakePostgresServer } from './platform/testing/fake-postgres-server.ts';
import { createTestDatabase, embeddedServerUrl } from './platform/testing/test-database.ts';
import { closedPort } from './platform/testing/closed-port.ts';

const projectRoot = path.resolve(import.meta.dirname, '..');
const cliEntry = path.join(import.meta.dirname, 'cli.ts');

/** This run's environment without anything that would point the CLI at another database or change its output. */
const baseEnvironment: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([name]) =>
  !name.endsWith('DATABASE_URL') && !name.startsWith('OTEL_') && !['LOG_LEVEL', 'NODE_ENV', 'GATEWAY_SECRET', 'KAFKA_BROKERS'].includes(name)));

/** Runs the CLI to its end; fails the test if it is still running after `timeoutMs`. */
async function runCli(args: string[], environment: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const startedAt = performance.now();
  const child = spawn(process.execPath, [cliEntry, ...args], {
    cwd: projectRoot, env: { ...baseEnvironment, OPS_PORT: '0', PORT: '0', ...environment }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString('utf8'); });
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8'); });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const [code] = await once(child, 'close') as [number | null];
  clearTimeout(timer);
  return { code, stdout, stderr, ms: performance.now() - startedAt };
}

/** The server `npm test` started (it requires a password), at a database nobody creates. */
function missingDatabaseUrl(): { url: string; name: string } {
  const url = new URL(embeddedServerUrl());
  const name = `orderstream_missing_${randomBytes(6).toString('hex')}`;
  url.pathname = `/${name}`;
  return { url: url.toString(), name };
}

/** Exit code 1 and exactly `line` on standard error: no stack trace, nothing else. */
function assertOneLine(result: { code: number | null; stderr: string; stdout: string }, line: RegExp): void {
  assert.equal(result.code, 1, `exit code (stderr: ${result.stderr})`);
  const lines = result.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${result.stderr}`);
  assert.match(lines[0] ?? '', line);
  assert.doesNotMatch(result.stderr + result.stdout, /\n\s+at /, 'no stack trace');
}

describe('orderstream with a configured database it cannot use', () => {
  test('when DATABASE_URL names a database that exists on a supported server, then migrate passes the check and applies the migrations', async () => {
    const database = await createTestDatabase(embeddedServerUrl(), []);
    try {
      const result = await runCli(['migrate'], { DATABASE_URL: database.url });

      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stderr, '');
      assert.match(result.stdout, /"msg":"migrations applied"/);
    } finally {
      await database.drop();
    }
  });

  test('when DATABASE_URL names a database that does not exist, then migrate exits 1 with one line giving the createdb command', async () => {
    const { url, name } = missingDatabaseUrl();
    const password = decodeURIComponent(new URL(url).password);

    const result = await runCli(['migrate'], { DATABASE_URL: url });

    assertOneLine(result, new RegExp(`^PostgreSQL at 127\\.0\\.0\\.1:\\d+ has no database "${name}" \\(DATABASE_URL\\); create it with: createdb -h 127\\.0\\.0\\.1 -p \\d+ -U postgres ${name}$`));
    assert.ok(!(result.stderr + result.stdout).includes(password), 'the password is never printed');
  });

  test('when nothing listens at DATABASE_URL\'s port, then migrate exits 1 at once, naming host:port', async () => {
    const port = await closedPort();

    const result = await runCli(['migrate'], { DATABASE_URL: `postgres://postgres:hunter2-secret@127.0.0.1:${String(port)}/orderstream` });

    assertOneLine(result, new RegExp(`^Cannot reach PostgreSQL at 127\\.0\\.0\\.1:${String(port)} \\(DATABASE_URL\\): connection refused`));
    assert.doesNotMatch(result.stderr + result.stdout, /hunter2-secret/);
  });

  test('when DATABASE_URL\'s password is wrong, then migrate exits 1 naming the user, never the password', async () => {
    const url = new URL(embeddedServerUrl());
    url.password = 'wrong-password-4711';

    const result = await runCli(['migrate'], { DATABASE_URL: url.toString() });

    assertOneLine(result, /^PostgreSQL at 127\.0\.0\.1:\d+ refused user "postgres" \(DATABASE_URL\): password authentication failed/);
    assert.doesNotMatch(result.stderr + result.stdout, /wrong-password-4711/);
  });

  test('when the server is older than the minimum version, then migrate exits 1 naming both versions', async () => {
    const old = await startFakePostgresServer({ columns: { number: '140011', version: '14.11 (Debian 14.11-1.pgdg120+1)' } });
    try {
      const result = await runCli(['migrate'], { DATABASE_URL: old.url });

      assertOneLine(result, new RegExp(`runs PostgreSQL 14\\.11; OrderStream needs PostgreSQL ${String(minimumPostgresVersion)} or newer`));
    } finally {
      await old.close();
    }
  });

  test('when start is given a database that does not exist, then it exits 1 with the one line instead of starting', async () => {
    const { url, name } = missingDatabaseUrl();

    const result = await runCli(['start'], { DATABASE_URL: url });

    assertOneLine(result, new RegExp(`has no database "${name}" \\(DATABASE_URL\\); create it with: createdb `));
  });

  test('when a service\'s own *_DATABASE_URL names a missing database, then start --role exits 1 naming that variable', async () => {
    const { url, name } = missingDatabaseUrl();

    const result = await runCli(['start', '--role', 'catalog'], { CATALOG_DATABASE_URL: url });

    assertOneLine(result, new RegExp(`has no database "${name}" \\(CATALOG_DATABASE_URL\\); create it with: createdb `));
  });

  test('when seed is given a database that does not exist, then it exits 1 with the one line', async () => {
    const { url, name } = missingDatabaseUrl();

    const result = await runCli(['seed', '--shape', 'single'], { DATABASE_URL: url });

    assertOneLine(result, new RegExp(`has no database "${name}" \\(DATABASE_URL\\)`));
  });

  test('when LOG_LEVEL=debug, then the driver\'s error and its stack are logged too, and the line still ends standard error', async () => {
    const { url, name } = missingDatabaseUrl();

    const result = await runCli(['migrate'], { DATABASE_URL: url, LOG_LEVEL: 'debug' });

    assert.equal(result.code, 1);
    assert.match(result.stderr.trimEnd().split('\n').at(-1) ?? '', new RegExp(`has no database "${name}"`));
    const debugLine = result.stdout.split('\n').find((line) => line.includes('database connection check failed'));
    assert.ok(debugLine !== undefined, `a debug line, got:\n${result.stdout}`);
    const logged = JSON.parse(debugLine) as { err?: { code?: string; stack?: string } };
    assert.equal(logged.err?.code, '3D000');
    assert.match(logged.err.stack ?? '', /\n\s+at /);
  });
});
