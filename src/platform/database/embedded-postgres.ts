import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from '../logging/logger.ts';
import { ensurePostgresUser, makeParentFolders, postgresBinaries, resolveDataDir, type PostgresIds } from './embedded-postgres-folders.ts';
import { clearStaleLock, isAlive } from './embedded-postgres-lock.ts';

const run = promisify(execFile);

/** A PostgreSQL server started from node_modules, owned by this process. */
export interface EmbeddedPostgresServer {
  /** Connection string of the `postgres` database (superuser). */
  url: string;
  dataDir: string;
  port: number;
  stop(): Promise<void>;
}

interface Credentials { user: string; password: string }

/**
 * Starts (initialising on first use) a PostgreSQL server whose data lives in `dataDir`, listening on
 * loopback only. A lock left by a crashed run is cleared; a server still owned by a live process is
 * reported instead of being stolen. As root, the server runs as the `postgres` user, which must be able
 * to reach the folder: when it cannot, a folder under /var/tmp is used instead and a warning says so.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port?: number;
  logger: Logger;
}): Promise<EmbeddedPostgresServer> {
  const { logger } = options;
  const isRoot = userInfo().uid === 0;
  const ids = isRoot ? await ensurePostgresUser() : undefined;
  const resolved = await resolveDataDir(options.dataDir, ids);
  if (resolved.blockedAt !== undefined) {
    logger.warn({ requested: path.resolve(options.dataDir), blockedAt: resolved.blockedAt, using: resolved.dataDir },
      'the postgres user cannot reach the embedded database folder; using a folder it can reach instead');
  }
  const dataDir = resolved.dataDir;
  await makeParentFolders(dataDir, ids);
  const credentialsFile = `${dataDir}.credentials.json`;
  const initialised = existsSync(path.join(dataDir, 'PG_VERSION'));
  const credentials = initialised ? await readCredentials(credentialsFile) : { user: 'postgres', password: randomBytes(18).toString('base64url') };
  const binaries = await postgresBinaries(ids, logger);
  await clearStaleLock(dataDir, binaries.postgres, logger);

  const port = options.port !== undefined && options.port !== 0 ? options.port : await findFreePort();
  const recentOutput: string[] = [];
  const remember = (chunk: unknown) => {
    for (const line of String(chunk).split('\n')) {
      const text = line.trim();
      if (text === '') continue;
      recentOutput.push(text);
      if (recentOutput.length > 30) recentOutput.shift();
      logger.debug({ postgres: text }, 'embedded postgres output');
    }
  };

  if (!initialised) {
    await removeInterruptedInitialisation(dataDir);
    logger.info({ dataDir }, 'initialising embedded postgres (first start)');
    await initialiseDataFolder(binaries.initdb, dataDir, credentials, ids, remember);
    await writeFile(credentialsFile, JSON.stringify(credentials), { mode: 0o600 });
    await chmod(credentialsFile, 0o600);
  }

  // Its own process group: a Ctrl-C in the terminal reaches only Node, which then shuts the
  // database down after the HTTP server and background work have finished with it.
  const child = spawn(binaries.postgres, [
    '-D', dataDir, '-p', String(port),
    '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=200',
  ], { ...ids, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.on('data', remember);
  const exited = new Promise<void>((resolve) => child.once('exit', () => { resolve(); }));
  await new Promise<void>((resolve, reject) => {
    const onOutput = (chunk: Buffer) => {
      remember(chunk);
      if (chunk.toString('utf8').includes('ready to accept connections')) resolve();
    };
    child.stderr.on('data', onOutput);
    void exited.then(() => {
      reject(new Error(`Embedded PostgreSQL did not start (data folder ${dataDir}, port ${port}):\n${recentOutput.join('\n')}`));
    });
  });
  const killOnExit = () => { child.kill('SIGINT'); };
  process.once('exit', killOnExit);

  const url = `postgres://${encodeURIComponent(credentials.user)}:${encodeURIComponent(credentials.password)}@127.0.0.1:${port}/postgres`;
  logger.info({ dataDir, port }, 'embedded postgres ready');
  let stopped: Promise<void> | undefined;
  const stop = async () => {
    process.removeListener('exit', killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGINT'); // "fast" shutdown: roll back open transactions, checkpoint, exit
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    }
    logger.info({ dataDir }, 'embedded postgres stopped');
  };
  return { url, dataDir, port, stop: () => (stopped ??= stop()) };
}

async function initialiseDataFolder(
  initdb: string, dataDir: string, credentials: Credentials, ids: PostgresIds | undefined, log: (chunk: unknown) => void,
): Promise<void> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const passwordFile = path.join(path.dirname(dataDir), `.initdb-password-${process.pid}`);
  await writeFile(passwordFile, `${credentials.password}\n`, { mode: 0o600 });
  if (ids !== undefined) {
    await chown(dataDir, ids.uid, ids.gid);
    await chown(passwordFile, ids.uid, ids.gid);
  }
  try {
    const result = await run(initdb, [
      `--pgdata=${dataDir}`, '--auth=scram-sha-256', `--username=${credentials.user}`, `--pwfile=${passwordFile}`,
      '--encoding=UTF8', '--locale=C', '--no-sync',
    ], { ...ids, cwd: path.dirname(dataDir) });
    log(result.stdout);
    log(result.stderr);
  } catch (error) {
    const output = error as { stderr?: string };
    throw new Error(`Initialising the embedded database in ${dataDir} failed: ${output.stderr ?? String(error)}`, { cause: error });
  } finally {
    await rm(passwordFile, { force: true });
  }
}

/** A first start interrupted during initdb leaves a folder initdb refuses to reuse; anything else is not ours to delete. */
async function removeInterruptedInitialisation(dataDir: string): Promise<void> {
  const entries = await readdir(dataDir).catch(() => []);
  if (entries.length === 0) return;
  const looksLikeOurs = entries.some((entry) => ['global', 'base', 'pg_wal', 'postgresql.conf'].includes(entry));
  if (!looksLikeOurs) {
    throw new Error(`${dataDir} is not empty and is not a PostgreSQL data folder; set EMBEDDED_POSTGRES_DIR to an empty or new folder.`);
  }
  await rm(dataDir, { recursive: true, force: true });
}

/**
 * The connection string of an embedded server another OrderStream process is running on this data
 * folder (read from its lock file and credentials), so a command like `seed` can share it.
 */
export async function runningEmbeddedPostgresUrl(requestedDataDir: string): Promise<string | undefined> {
  const ids = userInfo().uid === 0 ? await ensurePostgresUser() : undefined;
  const { dataDir } = await resolveDataDir(requestedDataDir, ids);
  const lock = await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8').catch(() => undefined);
  if (lock === undefined) return undefined;
  const [pidLine, , , portLine] = lock.split('\n');
  const pid = Number.parseInt(pidLine ?? '', 10);
  const port = Number.parseInt(portLine ?? '', 10);
  if (!Number.isInteger(pid) || !Number.isInteger(port) || !isAlive(pid)) return undefined;
  const credentials = await readCredentials(`${dataDir}.credentials.json`);
  return `postgres://${encodeURIComponent(credentials.user)}:${encodeURIComponent(credentials.password)}@127.0.0.1:${port}/postgres`;
}

async function readCredentials(file: string): Promise<Credentials> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Credentials;
  } catch (error) {
    throw new Error(`The embedded database exists but its credentials file ${file} is missing or unreadable; delete the data folder to start afresh.`, { cause: error });
  }
}

function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => {
        if (address !== null && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not pick a free port'));
      });
    });
  });
}
