import pg from 'pg';
import { Kysely, PostgresDialect, sql } from 'kysely';

/**
 * The handle every module's repositories are given. Modules type their own tables with
 * `db.$extendTables<TheirTables>()`; the platform's own tables are reached with plain `sql`.
 */
export type Database = Kysely<object>;

// PostgreSQL returns bigint (int8) and numeric as strings by default; counts and money
// amounts in OrderStream fit in a JavaScript number, and a string would leak into DTOs.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number.parseInt(value, 10));

/** Opens a pooled connection to PostgreSQL. */
export function createDatabase(options: { url: string; poolSize: number; applicationName?: string }): Database {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize,
    application_name: options.applicationName ?? 'orderstream',
  });
  // An idle client losing its connection (a database restart) must not crash the process;
  // the pool discards it and the next query opens a fresh one.
  pool.on('error', () => undefined);
  const db = new Kysely<object>({ dialect: new PostgresDialect({ pool }) });
  pools.set(db, pool);
  return db;
}

const pools = new WeakMap<Database, pg.Pool>();

/** How the connection pool behind `db` is used right now (for metrics); undefined for a handle not made by `createDatabase`. */
export function poolStats(db: Database): { total: number; idle: number; waiting: number; max: number } | undefined {
  const pool = pools.get(db);
  if (pool === undefined) return undefined;
  return { total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max: pool.options.max };
}

/** True when the database answers a trivial query within `timeoutMs`. */
export async function isDatabaseReachable(db: Database, timeoutMs: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => { resolve(false); }, timeoutMs);
  });
  const probe = sql`select 1`.execute(db).then(() => true, () => false);
  try {
    return await Promise.race([probe, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
