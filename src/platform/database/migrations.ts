import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { sql } from 'kysely';
import type { Database } from './database.ts';
import type { Logger } from '../logging/logger.ts';

/** One module's migrations: plain SQL files named `NNN_description.sql`, applied in name order inside its own schema. */
export interface MigrationSet {
  module: string;
  schema: string;
  directory: URL;
}

/** Raised when a migration that already ran has been edited since: history must not be rewritten. */
export class MigrationChecksumError extends Error {
  constructor(module: string, name: string) {
    super(`Migration ${module}/${name} was changed after it was applied; add a new migration instead.`);
    this.name = 'MigrationChecksumError';
  }
}

// Any fixed number works; it only has to be the same in every OrderStream process.
const migrationLockKey = 727_100_001;
const fileNamePattern = /^\d{3,}_[a-z0-9_-]+\.sql$/;

/**
 * Applies every pending migration of the given sets, each in its own transaction with its record.
 * A session-level advisory lock makes concurrent runs (two processes starting at once) take turns,
 * so each migration is applied exactly once.
 */
export async function migrate(db: Database, sets: readonly MigrationSet[], logger?: Logger): Promise<string[]> {
  const applied: string[] = [];
  await db.connection().execute(async (connection) => {
    // A migration may rewrite a large table, and another process's migrations may hold the lock for
    // a while: this session waits longer than a request would, but still not for ever.
    await sql`set statement_timeout = 0`.execute(connection);
    await sql`set lock_timeout = '300s'`.execute(connection);
    await sql`select pg_advisory_lock(${migrationLockKey})`.execute(connection);
    try {
      await sql`create schema if not exists platform`.execute(connection);
      await sql`
        create table if not exists platform.migrations (
          module text not null,
          name text not null,
          checksum text not null,
          applied_at timestamptz not null default now(),
          primary key (module, name)
        )`.execute(connection);
      for (const set of sets) {
        const done = await sql<{ name: string; checksum: string }>`
          select name, checksum from platform.migrations where module = ${set.module}`.execute(connection);
        const doneByName = new Map(done.rows.map((row) => [row.name, row.checksum]));
        const files = (await readdir(set.directory)).filter((file) => fileNamePattern.test(file)).sort();
        for (const file of files) {
          const text = await readFile(new URL(file, set.directory), 'utf8');
          const checksum = createHash('sha256').update(text).digest('hex');
          const previous = doneByName.get(file);
          if (previous !== undefined) {
            if (previous !== checksum) throw new MigrationChecksumError(set.module, file);
            continue;
          }
          await connection.transaction().execute(async (trx) => {
            await sql.raw(`create schema if not exists ${quoteIdentifier(set.schema)}`).execute(trx);
            await sql.raw(`set local search_path to ${quoteIdentifier(set.schema)}, public`).execute(trx);
            await sql.raw(text).execute(trx);
            await sql`insert into platform.migrations (module, name, checksum) values (${set.module}, ${file}, ${checksum})`.execute(trx);
          });
          logger?.info({ module: set.module, migration: file }, 'migration applied');
          applied.push(`${set.module}/${file}`);
        }
      }
    } finally {
      await sql`select pg_advisory_unlock(${migrationLockKey})`.execute(connection);
      await sql`reset statement_timeout`.execute(connection);
      await sql`reset lock_timeout`.execute(connection);
    }
  });
  return applied;
}

function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
