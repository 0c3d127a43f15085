// Imports nothing that loads `pg`: the CLI imports this file statically, before tracing starts
// (docs/decisions/0007-tracing.md).

/**
 * The oldest PostgreSQL major version OrderStream supports: the oldest one its tests run against (the
 * CI machine's server); the embedded server and the deploy files use newer ones.
 */
export const minimumPostgresVersion = 15;

/** Where a connection was going, as the driver resolved it (URL, PG* variables, defaults): enough to name it, never the password. */
export interface DatabaseTarget {
  /** The environment variable the URL came from (`DATABASE_URL`, `ORDERS_DATABASE_URL`, ...). */
  variable: string;
  /** A host name or address, or the folder of a Unix socket. */
  host: string;
  port: number;
  database: string;
  user: string;
}

/** Why a first connection to a configured database failed, in the terms an operator acts on. */
export type ConnectionFailure =
  | { kind: 'database-missing' }
  | { kind: 'unreachable'; reason: 'refused' | 'host-not-found' | 'timed-out' | 'no-route' | 'not-accepting'; afterMs?: number }
  | { kind: 'authentication-failed'; reason: 'password' | 'not-allowed' }
  | { kind: 'server-too-old'; serverVersion: string }
  | { kind: 'other'; detail: string };

const byPostgresCode: Readonly<Record<string, ConnectionFailure>> = {
  // invalid_catalog_name: the database named in the URL does not exist.
  '3D000': { kind: 'database-missing' },
  // invalid_password: also what a role that does not exist gets under password authentication.
  '28P01': { kind: 'authentication-failed', reason: 'password' },
  // invalid_authorization_specification: no such role (trust/peer), or no pg_hba.conf line lets it in.
  '28000': { kind: 'authentication-failed', reason: 'not-allowed' },
  // cannot_connect_now: starting up, shutting down, or in recovery without hot standby.
  '57P03': { kind: 'unreachable', reason: 'not-accepting' },
};

const bySystemCode: Readonly<Record<string, ConnectionFailure>> = {
  ECONNREFUSED: { kind: 'unreachable', reason: 'refused' },
  ENOTFOUND: { kind: 'unreachable', reason: 'host-not-found' },
  EAI_AGAIN: { kind: 'unreachable', reason: 'host-not-found' },
  EAI_NONAME: { kind: 'unreachable', reason: 'host-not-found' },
  EAI_NODATA: { kind: 'unreachable', reason: 'host-not-found' },
  ETIMEDOUT: { kind: 'unreachable', reason: 'timed-out' },
  EHOSTUNREACH: { kind: 'unreachable', reason: 'no-route' },
  ENETUNREACH: { kind: 'unreachable', reason: 'no-route' },
  EHOSTDOWN: { kind: 'unreachable', reason: 'no-route' },
  ENETDOWN: { kind: 'unreachable', reason: 'no-route' },
};

/**
 * What a failed first connection means, judged by the SQLSTATE the server sent or the system error
 * code of the socket, never by message text (which the server translates to its own language).
 */
export function classifyConnectionFailure(error: unknown): ConnectionFailure {
  const { code, syscall } = codeOf(error);
  if (code !== undefined) {
    const known = byPostgresCode[code] ?? bySystemCode[code];
    if (known !== undefined) return known;
    // A Unix socket that is not there: no server listens in that folder. Elsewhere (a certificate file) it means something else.
    if (code === 'ENOENT' && syscall === 'connect') return { kind: 'unreachable', reason: 'refused' };
  }
  return { kind: 'other', detail: detailOf(error, code) };
}

/**
 * The one line an operator reads when the first connection fails: what is wrong, where (host,
 * port, database, user; never the password), and what to do.
 */
export function describeConnectionFailure(failure: ConnectionFailure, target: DatabaseTarget): string {
  const server = `PostgreSQL at ${addressOf(target)}`;
  switch (failure.kind) {
    case 'database-missing':
      return `${server} has no database "${target.database}" (${target.variable}); create it with: `
        + `createdb ${['-h', target.host, '-p', String(target.port), '-U', target.user, target.database].map(shellWord).join(' ')}`;
    case 'unreachable':
      return `Cannot reach ${server} (${target.variable}): ${unreachableReason(failure, target)}`;
    case 'authentication-failed':
      return failure.reason === 'password'
        ? `${server} refused user "${target.user}" (${target.variable}): password authentication failed (a wrong password, or no such role); correct the user or password in ${target.variable}.`
        : `${server} refused user "${target.user}" (${target.variable}): the role does not exist, or pg_hba.conf does not allow it to connect to "${target.database}" from this host (check SSL and the authentication method too).`;
    case 'server-too-old':
      return `${server} (${target.variable}) runs PostgreSQL ${failure.serverVersion}; OrderStream needs PostgreSQL ${String(minimumPostgresVersion)} or newer: upgrade the server or point ${target.variable} at a newer one.`;
    case 'other':
      return `Cannot connect to database "${target.database}" on ${server} as user "${target.user}" (${target.variable}): ${failure.detail}`;
  }
}

/** A server's `server_version_num` (e.g. 150020 for 15.20): whether OrderStream supports it. */
export function isSupportedServerVersion(versionNumber: number): boolean {
  return Math.floor(versionNumber / 10_000) >= minimumPostgresVersion;
}

/** The first connection to a configured database failed; the message is the one line to print. */
export class DatabaseConnectionError extends Error {
  readonly failure: ConnectionFailure;
  readonly target: DatabaseTarget;

  constructor(failure: ConnectionFailure, target: DatabaseTarget, cause?: unknown) {
    super(describeConnectionFailure(failure, target), { cause });
    this.name = 'DatabaseConnectionError';
    this.failure = failure;
    this.target = target;
  }
}

function unreachableReason(failure: Extract<ConnectionFailure, { kind: 'unreachable' }>, target: DatabaseTarget): string {
  switch (failure.reason) {
    case 'refused':
      return `connection refused, no server listens there; start PostgreSQL or correct the host and port in ${target.variable}.`;
    case 'host-not-found':
      return `the host name "${target.host}" was not found; correct the host in ${target.variable}.`;
    case 'timed-out':
      return `no answer${failure.afterMs === undefined ? '' : ` within ${String(failure.afterMs)} ms`}; check that the server runs and that the network (a firewall) lets this machine reach it.`;
    case 'no-route':
      return `no route to that host; check the host in ${target.variable} and this machine's network.`;
    case 'not-accepting':
      return 'the server is not accepting connections now (starting up, shutting down or recovering); try again once it is up.';
  }
}

/** `host:port`, an IPv6 address in brackets, or the socket file of a Unix-socket folder. */
function addressOf(target: DatabaseTarget): string {
  if (target.host.startsWith('/')) return `${target.host}/.s.PGSQL.${String(target.port)}`;
  return target.host.includes(':') ? `[${target.host}]:${String(target.port)}` : `${target.host}:${String(target.port)}`;
}

/** A word a POSIX shell reads back unchanged, so the printed command can be pasted as it is. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/**
 * The code of a driver or socket error. Node reports a connection to a name with several addresses
 * (localhost: ::1 and 127.0.0.1) that all failed as an AggregateError: its own code or its first error's.
 */
function codeOf(error: unknown): { code?: string; syscall?: string } {
  if (typeof error !== 'object' || error === null) return {};
  const { code, syscall, errors } = error as { code?: unknown; syscall?: unknown; errors?: unknown };
  if (typeof code === 'string') return { code, ...(typeof syscall === 'string' ? { syscall } : {}) };
  if (Array.isArray(errors) && errors.length > 0) return codeOf(errors[0]);
  return {};
}

function detailOf(error: unknown, code: string | undefined): string {
  const message = (error instanceof Error ? error.message : String(error)).split('\n')[0]?.trim() ?? '';
  const text = message === '' ? 'the connection failed' : message;
  return code === undefined || text.includes(code) ? text : `${text} (${code})`;
}
