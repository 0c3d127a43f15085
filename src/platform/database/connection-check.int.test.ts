import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { embeddedServerUrl } from '../testing/test-database.ts';
import { startFakePostgresServer } from '../testing/fake-postgres-server.ts';
import { checkDatabaseConnection } from './connection-check.ts';
import { DatabaseConnectionError, minimumPostgresVersion, type ConnectionFailure } from './connection-failure.ts';
import { closedPort } from '../testing/closed-port.ts';

/** The server `npm test` started, at a database nobody creates. */
function missingDatabaseUrl(): string {
  const url = new URL(embeddedServerUrl());
  url.pathname = `/orderstream_missing_${randomBytes(6).toString('hex')}`;
  return url.toString();
}

/** The failure `checkDatabaseConnection` reports for `url`. */
async function failureOf(url: string, timeoutMs = 5000): Promise<DatabaseConnectionError> {
  try {
    await checkDatabaseConnection({ url, variable: 'DATABASE_URL', timeoutMs });
  } catch (error) {
    assert.ok(error instanceof DatabaseConnectionError, `expected a DatabaseConnectionError, got ${String(error)}`);
    return error;
  }
  assert.fail('the check passed');
}

describe('checkDatabaseConnection', () => {
  test('when the database exists on a supported server, then the check passes', async () => {
    await checkDatabaseConnection({ url: embeddedServerUrl(), variable: 'DATABASE_URL', timeoutMs: 5000 });
  });

  test('when the database does not exist, then it says so with the createdb command, and the database is not created', async () => {
    const url = missingDatabaseUrl();
    const name = new URL(url).pathname.slice(1);

    const error = await failureOf(url);

    assert.deepEqual(error.failure, { kind: 'database-missing' } satisfies ConnectionFailure);
    assert.match(error.message, new RegExp(`has no database "${name}" \\(DATABASE_URL\\); create it with: createdb -h 127\\.0\\.0\\.1 -p \\d+ -U postgres ${name}$`));
    assert.equal((await failureOf(url)).failure.kind, 'database-missing');
  });

  test('when the password is wrong, then authentication failed is reported with the user, never the password', async () => {
    const url = new URL(embeddedServerUrl());
    url.password = 'not-the-password-123';

    const error = await failureOf(url.toString());

    assert.deepEqual(error.failure, { kind: 'authentication-failed', reason: 'password' } satisfies ConnectionFailure);
    assert.match(error.message, /refused user "postgres"/);
    assert.doesNotMatch(error.message, /not-the-password-123/);
  });

  test('when nothing listens on the port, then the server is unreachable at that host:port', async () => {
    const port = await closedPort();

    const error = await failureOf(`postgres://postgres:secret@127.0.0.1:${String(port)}/orderstream`);

    assert.deepEqual(error.failure, { kind: 'unreachable', reason: 'refused' } satisfies ConnectionFailure);
    assert.match(error.message, new RegExp(`^Cannot reach PostgreSQL at 127\\.0\\.0\\.1:${String(port)} \\(DATABASE_URL\\): connection refused`));
  });

  test('when the host name does not resolve, then the server is unreachable and the host is named', async () => {
    const error = await failureOf('postgres://postgres@db.orderstream-test.invalid:5432/orderstream');

    assert.deepEqual(error.failure, { kind: 'unreachable', reason: 'host-not-found' } satisfies ConnectionFailure);
    assert.match(error.message, /the host name "db\.orderstream-test\.invalid" was not found/);
  });

  test('when the server accepts the connection but never answers, then the check gives up after the timeout', async () => {
    const silent = await startFakePostgresServer({ silent: true });
    try {
      const startedAt = performance.now();

      const error = await failureOf(silent.url, 300);

      assert.deepEqual(error.failure, { kind: 'unreachable', reason: 'timed-out', afterMs: 300 } satisfies ConnectionFailure);
      assert.ok(performance.now() - startedAt < 3000, 'gave up in time');
    } finally {
      await silent.close();
    }
  });

  test('when the server is older than the minimum version, then both versions are named', async () => {
    const old = await startFakePostgresServer({ columns: { number: '140011', version: '14.11 (Debian 14.11-1)' } });
    try {
      const error = await failureOf(old.url);

      assert.deepEqual(error.failure, { kind: 'server-too-old', serverVersion: '14.11' } satisfies ConnectionFailure);
      assert.match(error.message, new RegExp(`runs PostgreSQL 14\\.11; OrderStream needs PostgreSQL ${String(minimumPostgresVersion)} or newer`));
    } finally {
      await old.close();
    }
  });

  test('when the server is exactly the minimum version, then the check passes', async () => {
    const oldest = await startFakePostgresServer({ columns: { number: String(minimumPostgresVersion * 10_000), version: `${String(minimumPostgresVersion)}.0` } });
    try {
      await checkDatabaseConnection({ url: oldest.url, variable: 'DATABASE_URL', timeoutMs: 5000 });
    } finally {
      await oldest.close();
    }
  });
});
