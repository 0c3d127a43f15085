import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../platform/config/config.ts';
import type { Logger } from '../platform/logging/logger.ts';

/** Where the development key lives when IDENTITY_KEY_ENCRYPTION_KEY is not set. */
export const developmentKeyFile = '.data/identity-key-encryption-key';

/**
 * The key that encrypts stored signing keys: IDENTITY_KEY_ENCRYPTION_KEY, or — so that `npm start`
 * needs no setup — a key generated once and kept (mode 0600) beside the embedded database, with a
 * warning that production must set its own.
 */
export async function resolveKeyEncryptionKey(config: Config, logger: Logger, file = developmentKeyFile): Promise<string> {
  if (config.IDENTITY_KEY_ENCRYPTION_KEY !== undefined) return config.IDENTITY_KEY_ENCRYPTION_KEY;
  try {
    const stored = (await readFile(file, 'utf8')).trim();
    if (stored !== '') return stored;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const key = randomBytes(32).toString('base64');
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${key}\n`, { mode: 0o600, flag: 'wx' }).catch((error: unknown) => {
    // Another process created it first: use theirs.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  });
  logger.warn({ file }, 'IDENTITY_KEY_ENCRYPTION_KEY is not set: using a development key kept in a local file; set it in production');
  return (await readFile(file, 'utf8')).trim();
}
