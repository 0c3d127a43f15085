import { open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { readPidFile } from './background-process.ts';
import { localNginxFiles } from './local-nginx.ts';
import { ServicesError } from './services-options.ts';

/** The services folder: where `up` keeps what it runs, and the lock that lets one command at a time work on it. */

/** The files of one services folder. */
export function filesOf(dir: string) {
  return {
    dir,
    plan: path.join(dir, 'services.json'),
    lock: path.join(dir, '.lock'),
    secret: path.join(dir, 'secret'),
    keyEncryptionKey: path.join(dir, 'identity-key-encryption-key'),
    kafkaStarted: path.join(dir, 'kafka-started'),
    documents: path.join(dir, 'documents'),
    mailOutbox: path.join(dir, 'mail-outbox'),
    logs: path.join(dir, 'logs'),
    pids: path.join(dir, 'pids'),
    logOf: (name: string) => path.join(dir, 'logs', `${name}.log`),
    pidOf: (name: string) => path.join(dir, 'pids', `${name}.pid`),
    nginx: localNginxFiles(dir),
  };
}
export type ServicesFiles = ReturnType<typeof filesOf>;

/** One `up` or `down` at a time per folder: the lock file names the pid that holds it. */
export async function withLock<T>(files: ServicesFiles, work: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      const handle = await open(files.lock, 'wx');
      await handle.write(`${process.pid}\n`);
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
      const holder = await readPidFile(files.lock);
      if (holder !== undefined && processExists(holder)) {
        throw new ServicesError(`Another \`orderstream services\` command (pid ${holder}) is working on ${displayPath(files.dir)}; wait for it to finish.`);
      }
      await rm(files.lock, { force: true });
    }
  }
  try {
    return await work();
  } finally {
    await rm(files.lock, { force: true });
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function exists(file: string): Promise<boolean> {
  return readFile(file).then(() => true, () => false);
}

/** `file` relative to the working directory when it is inside it (shorter in messages). */
export function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}
