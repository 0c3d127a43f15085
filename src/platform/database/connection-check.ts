import pg from 'pg';
import type { Logger } from '../logging/logger.ts';
import {
  classifyConnectionFailure, DatabaseConnectionError, isSupportedServerVersion, type ConnectionFailure, type DatabaseTarget,
} from './connection-failure.ts';

/**
 * Opens one connection to a configured database and asks its version, so a command fails at once
 * with one line saying what is wrong (`DatabaseConnectionError`) instead of a driver stack trace from
 * deep inside a migration. The database is never created here: a mistyped name would otherwise start
 * a second, empty OrderStream. The failure's own error is logged at debug level.
 */
export async function checkDatabaseConnection(options: {
  url: string;
  /** The variable the URL came from, named in the message. */
  variable: string;
  /** Longest wait for the connection and the version query together. */
  timeoutMs: number;
  logger?: Logger;
}): Promise<void> {
  const { url, variable, timeoutMs, logger } = options;
  let client: pg.Client;
  try {
    client = new pg.Client({ connectionString: url, application_name: 'orderstream-check' });
  } catch (error) {
    throw failed(classifyConnectionFailure(error), targetOfUrl(url, variable), error, logger);
  }
  const target: DatabaseTarget = {
    variable, host: client.host, port: client.port, database: client.database ?? '', user: client.user ?? '',
  };
  // An error after the answer (the server going away while we end) has nothing left to fail.
  client.on('error', () => undefined);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timed-out'>((resolve) => {
    timer = setTimeout(() => { resolve('timed-out'); }, timeoutMs);
  });
  const answer = (async () => {
    await client.connect();
    const result = await client.query<{ number: string; version: string }>(
      "select current_setting('server_version_num') as number, current_setting('server_version') as version",
    );
    return result.rows[0];
  })();
  let outcome: Awaited<typeof answer> | 'timed-out';
  try {
    outcome = await Promise.race([answer, timedOut]);
  } catch (error) {
    void client.end().catch(() => undefined);
    throw failed(classifyConnectionFailure(error), target, error, logger);
  } finally {
    clearTimeout(timer);
  }
  if (outcome === 'timed-out') {
    // Destroyed rather than ended: a polite goodbye to a server that does not answer (or a connect
    // still waiting on a host that drops packets) would keep the process alive for minutes.
    answer.catch(() => undefined);
    client.connection.stream.destroy();
    throw failed({ kind: 'unreachable', reason: 'timed-out', afterMs: timeoutMs }, target, undefined, logger);
  }
  await client.end().catch(() => undefined);
  const versionNumber = Number.parseInt(outcome?.number ?? '', 10);
  if (!isSupportedServerVersion(versionNumber)) {
    throw failed({ kind: 'server-too-old', serverVersion: (outcome?.version ?? String(versionNumber)).split(' ')[0] ?? '' }, target, undefined, logger);
  }
}

function failed(failure: ConnectionFailure, target: DatabaseTarget, cause: unknown, logger: Logger | undefined): DatabaseConnectionError {
  const error = new DatabaseConnectionError(failure, target, cause);
  logger?.debug({ err: cause ?? error, failure, host: target.host, port: target.port, database: target.database, user: target.user },
    'database connection check failed');
  return error;
}

/** What the URL itself says, for the rare URL the driver refuses before connecting (e.g. an SSL file it cannot read). */
function targetOfUrl(url: string, variable: string): DatabaseTarget {
  const parsed = URL.parse(url);
  return {
    variable,
    host: parsed?.hostname === undefined || parsed.hostname === '' ? 'localhost' : parsed.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: parsed?.port === undefined || parsed.port === '' ? 5432 : Number(parsed.port),
    database: decoded(parsed?.pathname.slice(1) ?? ''),
    user: decoded(parsed?.username ?? ''),
  };
}

/** A URL part as written when it does not decode (a stray `%`): the message must still be printed. */
function decoded(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}
