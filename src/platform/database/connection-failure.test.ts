import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  classifyConnectionFailure, DatabaseConnectionError, describeConnectionFailure, isSupportedServerVersion, minimumPostgresVersion,
  type DatabaseTarget,
} from './connection-failure.ts';

/** A server error as the driver raises it: the SQLSTATE in `code`, the message in the server's language. */
function serverError(code: string, message = 'le message du serveur'): Error {
  return Object.assign(new Error(message), { code, severity: 'FATAL' });
}

/** A socket error as Node raises it. */
function systemError(code: string, syscall = 'connect'): Error {
  return Object.assign(new Error(`${syscall} ${code} 10.0.0.9:5432`), { code, syscall, errno: -1 });
}

const target: DatabaseTarget = { variable: 'ORDERS_DATABASE_URL', host: 'db.internal', port: 6543, database: 'orders', user: 'orders_app' };

describe('classifyConnectionFailure', () => {
  test('when the server says 3D000, then the database is missing, whatever the message says', () => {
    assert.deepEqual(classifyConnectionFailure(serverError('3D000')), { kind: 'database-missing' });
  });

  test('when the server says 28P01 or 28000, then authentication failed (password, or not allowed)', () => {
    assert.deepEqual(classifyConnectionFailure(serverError('28P01')), { kind: 'authentication-failed', reason: 'password' });
    assert.deepEqual(classifyConnectionFailure(serverError('28000')), { kind: 'authentication-failed', reason: 'not-allowed' });
  });

  test('when the socket fails to connect, then the server is unreachable, with the reason its code gives', () => {
    assert.deepEqual(classifyConnectionFailure(systemError('ECONNREFUSED')), { kind: 'unreachable', reason: 'refused' });
    assert.deepEqual(classifyConnectionFailure(systemError('ENOTFOUND', 'getaddrinfo')), { kind: 'unreachable', reason: 'host-not-found' });
    assert.deepEqual(classifyConnectionFailure(systemError('EAI_AGAIN', 'getaddrinfo')), { kind: 'unreachable', reason: 'host-not-found' });
    assert.deepEqual(classifyConnectionFailure(systemError('ETIMEDOUT')), { kind: 'unreachable', reason: 'timed-out' });
    assert.deepEqual(classifyConnectionFailure(systemError('EHOSTUNREACH')), { kind: 'unreachable', reason: 'no-route' });
    assert.deepEqual(classifyConnectionFailure(serverError('57P03')), { kind: 'unreachable', reason: 'not-accepting' });
  });

  test('when every address of a name refused (an AggregateError), then it is judged by its first error', () => {
    const error = new AggregateError([systemError('ECONNREFUSED'), systemError('ECONNREFUSED')], 'connect failed');

    assert.deepEqual(classifyConnectionFailure(error), { kind: 'unreachable', reason: 'refused' });
  });

  test('when ENOENT comes from connecting to a Unix socket, then no server listens there; from anything else, it is another failure', () => {
    assert.deepEqual(classifyConnectionFailure(systemError('ENOENT', 'connect')), { kind: 'unreachable', reason: 'refused' });
    assert.equal(classifyConnectionFailure(systemError('ENOENT', 'open')).kind, 'other');
  });

  test('when the code is one it does not know, then it is another failure, its first line and code kept', () => {
    const failure = classifyConnectionFailure(serverError('53300', 'sorry, too many clients already\nand more'));

    assert.deepEqual(failure, { kind: 'other', detail: 'sorry, too many clients already (53300)' });
  });

  test('when the message only looks like a known failure, then the message is not what decides', () => {
    assert.equal(classifyConnectionFailure(new Error('database "orders" does not exist')).kind, 'other');
    assert.equal(classifyConnectionFailure('connection refused').kind, 'other');
  });
});

describe('describeConnectionFailure', () => {
  test('when the database is missing, then the line names the server and gives the createdb command for it', () => {
    const line = describeConnectionFailure({ kind: 'database-missing' }, target);

    assert.equal(line, 'PostgreSQL at db.internal:6543 has no database "orders" (ORDERS_DATABASE_URL); create it with: createdb -h db.internal -p 6543 -U orders_app orders');
  });

  test('when a name needs quoting, then the command quotes it for the shell', () => {
    const line = describeConnectionFailure({ kind: 'database-missing' }, { ...target, database: "o'rders 2" });

    assert.match(line, /createdb -h db\.internal -p 6543 -U orders_app 'o'\\''rders 2'$/);
  });

  test('when the server is unreachable, then the line says so and names host:port and the variable', () => {
    assert.match(describeConnectionFailure({ kind: 'unreachable', reason: 'refused' }, target), /^Cannot reach PostgreSQL at db\.internal:6543 \(ORDERS_DATABASE_URL\): connection refused/);
    assert.match(describeConnectionFailure({ kind: 'unreachable', reason: 'host-not-found' }, target), /the host name "db\.internal" was not found/);
    assert.match(describeConnectionFailure({ kind: 'unreachable', reason: 'timed-out', afterMs: 3000 }, target), /no answer within 3000 ms/);
    assert.match(describeConnectionFailure({ kind: 'unreachable', reason: 'refused' }, { ...target, host: '::1' }), /at \[::1\]:6543 /);
    assert.match(describeConnectionFailure({ kind: 'unreachable', reason: 'refused' }, { ...target, host: '/run/postgresql' }), /at \/run\/postgresql\/\.s\.PGSQL\.6543 /);
  });

  test('when authentication failed, then the line names the user', () => {
    assert.match(describeConnectionFailure({ kind: 'authentication-failed', reason: 'password' }, target), /refused user "orders_app" \(ORDERS_DATABASE_URL\): password authentication failed/);
    assert.match(describeConnectionFailure({ kind: 'authentication-failed', reason: 'not-allowed' }, target), /refused user "orders_app" .*pg_hba\.conf/);
  });

  test('when the server is too old, then the line names its version and the minimum', () => {
    const line = describeConnectionFailure({ kind: 'server-too-old', serverVersion: '14.11' }, target);

    assert.match(line, new RegExp(`runs PostgreSQL 14\\.11; OrderStream needs PostgreSQL ${String(minimumPostgresVersion)} or newer`));
  });

  test('when any failure is described, then it is one line', () => {
    const failures = [
      { kind: 'database-missing' }, { kind: 'unreachable', reason: 'not-accepting' }, { kind: 'unreachable', reason: 'no-route' },
      { kind: 'authentication-failed', reason: 'password' }, { kind: 'server-too-old', serverVersion: '9.6' }, classifyConnectionFailure(new Error('a\nb')),
    ] as const;
    for (const failure of failures) assert.doesNotMatch(describeConnectionFailure(failure, target), /\n/);
  });

  test('when it becomes an error, then its message is the line and the driver error is its cause', () => {
    const cause = serverError('3D000');
    const error = new DatabaseConnectionError(classifyConnectionFailure(cause), target, cause);

    assert.equal(error.message, describeConnectionFailure({ kind: 'database-missing' }, target));
    assert.equal(error.cause, cause);
  });
});

describe('isSupportedServerVersion', () => {
  test('when the server is the minimum major version or newer, then it is supported; older, not', () => {
    assert.equal(isSupportedServerVersion(minimumPostgresVersion * 10_000), true);
    assert.equal(isSupportedServerVersion(180_004), true);
    assert.equal(isSupportedServerVersion(minimumPostgresVersion * 10_000 - 1), false);
    assert.equal(isSupportedServerVersion(90_624), false);
    assert.equal(isSupportedServerVersion(Number.NaN), false);
  });
});
