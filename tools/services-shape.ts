import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { displayPath, filesOf } from './services-folder.ts';
import { ServicesError } from './services-options.ts';
import { aliveProcesses, databaseUrlOf, readPlan, type ServiceRole } from './services-plan.ts';

/** What `seed`, `users grant-admin` and `keys rotate` need of the services shape `up` planned in a folder. */
export interface ServicesShape {
  /** The services folder, relative to the working directory when inside it (for messages). */
  dir: string;
  /** True when at least one of its processes runs (the test by which `up` keeps a plan). */
  running: boolean;
  /** nginx, in front of the gateways: the API as clients reach it. */
  apiUrl: string;
  /** The database of one service. */
  databaseUrlOf: (role: ServiceRole) => string;
  /** The key that encrypts the signing keys in identity's database, as every process was given it. */
  keyEncryptionKey: () => Promise<string>;
  /** Processes of the plan (and nginx) that are not running. */
  stopped: string[];
  /** The prefix of the Redis keys the processes share (token revocations, rate limits). */
  redisKeyPrefix?: string;
}

/**
 * The services shape planned in `dir`, or undefined when `up` never ran there. `fallbackServerUrl`
 * serves plans written before the database server was recorded in them.
 */
export async function findServicesShape(dir: string, fallbackServerUrl: string): Promise<ServicesShape | undefined> {
  const files = filesOf(path.resolve(dir));
  const plan = await readPlan(files);
  if (plan === undefined) return undefined;
  const alive = await aliveProcesses(files, plan);
  const serverUrl = plan.serverUrl ?? fallbackServerUrl;
  return {
    dir: displayPath(files.dir),
    running: alive.size > 0,
    apiUrl: `http://127.0.0.1:${plan.apiPort}`,
    databaseUrlOf: (role) => databaseUrlOf(serverUrl, plan.databasePrefix, role),
    keyEncryptionKey: async () => {
      const key = (await readFile(files.keyEncryptionKey, 'utf8').catch(() => '')).trim();
      if (key === '') throw new ServicesError(`${displayPath(files.keyEncryptionKey)} is missing or empty: the signing keys in ${plan.databasePrefix}identity cannot be read without it.`);
      return key;
    },
    stopped: [...plan.processes.map((planned) => planned.name), 'nginx'].filter((name) => !alive.has(name)),
    redisKeyPrefix: plan.redisKeyPrefix,
  };
}
