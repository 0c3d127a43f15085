import { sql } from 'kysely';
import type { Config } from '../platform/config/config.ts';
import { createDatabase, isDatabaseReachable, type Database } from '../platform/database/database.ts';
import { migrate, type MigrationSet } from '../platform/database/migrations.ts';
import { createHttpApp, type HttpApp } from '../platform/http/app.ts';
import type { Logger } from '../platform/logging/logger.ts';
import { createMessaging, InProcessTransport, messagingMigrations, type Messaging } from '../platform/messaging/index.ts';
import { catalogMigrations, createCatalogModule } from '../modules/catalog/index.ts';

/** Every module's migrations, in the order they are applied. */
export const allMigrations: readonly MigrationSet[] = [messagingMigrations, catalogMigrations];

/** OrderStream as one process: every module, in-process messaging, one database. */
export interface SingleProcess {
  app: HttpApp;
  db: Database;
  messaging: Messaging;
  /** Starts background work (outbox relay, retries). The HTTP app works without it. */
  start(): Promise<void>;
  /** Stops background work and closes the HTTP app and the database pool. */
  close(): Promise<void>;
}

/**
 * The single-process composition root: migrates the database at `databaseUrl`, wires every module
 * to it and returns the app without listening, so tests can `inject()` and the CLI can `listen()`.
 */
export async function createSingleProcess(options: { config: Config; logger: Logger; databaseUrl: string }): Promise<SingleProcess> {
  const { config, logger, databaseUrl } = options;
  const db = createDatabase({ url: databaseUrl, poolSize: config.DATABASE_POOL_SIZE });
  try {
    await migrate(db, allMigrations, logger);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  const transport = new InProcessTransport();
  const messaging = createMessaging({
    db, transport, logger,
    retryPolicy: { maxAttempts: config.MESSAGE_MAX_ATTEMPTS, baseDelayMs: config.MESSAGE_RETRY_BASE_MS },
    pollIntervalMs: config.OUTBOX_POLL_INTERVAL_MS,
    listenUrl: databaseUrl,
  });
  const catalog = createCatalogModule({ db });
  const app = createHttpApp({
    logger,
    bodyLimit: config.BODY_LIMIT_BYTES,
    routes: [catalog.routes],
    readiness: [{ name: 'database', check: () => isDatabaseReachable(db, 2000) }],
  });
  let started = false;
  return {
    app, db, messaging,
    async start() {
      await messaging.start();
      started = true;
    },
    async close() {
      await app.close();
      if (started) await messaging.stop();
      await db.destroy();
    },
  };
}

/** Creates `name` on the server at `serverUrl` unless it exists; returns the URL of that database. */
export async function ensureDatabase(serverUrl: string, name: string): Promise<string> {
  const admin = createDatabase({ url: serverUrl, poolSize: 1 });
  try {
    const exists = await sql`select 1 from pg_database where datname = ${name}`.execute(admin);
    if (exists.rows.length === 0) {
      await sql.raw(`create database "${name.replaceAll('"', '""')}"`).execute(admin).catch((error: unknown) => {
        // Two processes creating it at once: the loser finds it exists, which is what it wanted.
        if ((error as { code?: string }).code !== '42P04') throw error;
      });
    }
  } finally {
    await admin.destroy();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}
