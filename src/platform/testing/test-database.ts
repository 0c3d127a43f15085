import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { createDatabase, type Database } from '../database/database.ts';
import { migrate, type MigrationSet } from '../database/migrations.ts';
import { requireService } from './services.ts';

/** A PostgreSQL server tests may create databases on. */
export interface DatabaseServer {
  name: 'embedded' | 'external';
  url: string | undefined;
  /** A reason to skip, when the server is not available. */
  skip: string | false;
}

/**
 * The servers a database test runs against: the embedded PostgreSQL that `npm test` starts, and
 * the external server named by DATABASE_URL (the machine's PostgreSQL in CI).
 */
export function databaseServers(): DatabaseServer[] {
  const embedded = process.env.TEST_EMBEDDED_DATABASE_URL;
  if (embedded === undefined) {
    throw new Error('TEST_EMBEDDED_DATABASE_URL is not set: run tests through `npm test` (add file names after `--` to run a few).');
  }
  const external = requireService('External PostgreSQL', 'DATABASE_URL');
  return [
    { name: 'embedded', url: embedded, skip: false },
    { name: 'external', url: external.url, skip: external.skip },
  ];
}

/** The embedded server: the default target of tests that need one database and do not test portability. */
export function embeddedServerUrl(): string {
  const server = databaseServers()[0];
  if (server?.url === undefined) throw new Error('no embedded test database server');
  return server.url;
}

/** A fresh, uniquely named database on `serverUrl`, migrated with `migrations`, dropped by `drop()`. */
export async function createTestDatabase(serverUrl: string, migrations: readonly MigrationSet[]): Promise<{ url: string; db: Database; drop: () => Promise<void> }> {
  const name = `test_${randomBytes(6).toString('hex')}`;
  const admin = createDatabase({ url: serverUrl, poolSize: 1 });
  await sql.raw(`create database ${name}`).execute(admin);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const db = createDatabase({ url: url.toString(), poolSize: 5 });
  await migrate(db, migrations);
  return {
    url: url.toString(),
    db,
    drop: async () => {
      await db.destroy();
      await sql.raw(`drop database if exists ${name} with (force)`).execute(admin);
      await admin.destroy();
    },
  };
}
