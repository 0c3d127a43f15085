import { sleep } from './background-process.ts';
import { ServicesError } from './services-options.ts';

/** The run's databases on the PostgreSQL server: made by `up`, dropped by `down --purge`. */

/** Creates the databases that do not exist yet on the server. */
export async function ensureDatabases(serverUrl: string, names: readonly string[]): Promise<void> {
  const { createDatabase } = await import('../src/platform/database/database.ts');
  const { sql } = await import('kysely');
  const admin = createDatabase({ url: serverUrl, poolSize: 1, applicationName: 'orderstream-services' });
  try {
    const existing = await sql<{ datname: string }>`select datname from pg_database where datname = any(${names})`.execute(admin).catch((error: unknown) => {
      throw new ServicesError(`PostgreSQL at ${redactedUrl(serverUrl)} does not answer (${(error as Error).message}); start it, or set DATABASE_URL to the server to use.`);
    });
    const have = new Set(existing.rows.map((row) => row.datname));
    for (const name of names.filter((candidate) => !have.has(candidate))) {
      await sql.raw(`create database "${name.replaceAll('"', '""')}"`).execute(admin).catch((error: unknown) => {
        // Created meanwhile by someone else: it exists, which is what we wanted.
        if ((error as { code?: string }).code !== '42P04') throw error;
      });
    }
  } finally {
    await admin.destroy();
  }
}

/** Drops those of `names` that exist on the server; resolves with them. Waits a little for sessions of just-stopped processes to end. */
export async function dropDatabases(serverUrl: string, names: readonly string[]): Promise<string[]> {
  const { createDatabase } = await import('../src/platform/database/database.ts');
  const { sql } = await import('kysely');
  const admin = createDatabase({ url: serverUrl, poolSize: 1, applicationName: 'orderstream-services' });
  try {
    const existing = await sql<{ datname: string }>`select datname from pg_database where datname = any(${names}) order by datname`.execute(admin).catch((error: unknown) => {
      throw new ServicesError(`PostgreSQL at ${redactedUrl(serverUrl)} does not answer (${firstLine(error)}); start it, then run \`orderstream services down --purge\` again.`);
    });
    const dropped: string[] = [];
    for (const { datname: name } of existing.rows) {
      for (let attempt = 1; ; attempt += 1) {
        try {
          await sql.raw(`drop database if exists "${name.replaceAll('"', '""')}"`).execute(admin);
          break;
        } catch (error) {
          // 55006: still in use. A stopped service's sessions end a moment after it; another client's do not.
          if ((error as { code?: string }).code === '55006' && attempt < 40) {
            await sleep(250);
            continue;
          }
          throw new ServicesError(`Could not drop the database ${name} (${firstLine(error)}); close what still uses it, then run \`orderstream services down --purge\` again.`);
        }
      }
      dropped.push(name);
    }
    return dropped;
  } finally {
    await admin.destroy();
  }
}

function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(DATABASE_URL)';
  }
}

export function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}
