import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { percentiles, type Percentiles } from './statistics.ts';

/**
 * The cheapest unit of work of each physical ceiling: a durable commit (one single-row insert in its
 * own transaction), or one single-row statement that commits nothing (a primary-key select).
 */
export type PrimitiveOperation = 'commit' | 'statement';

/** What one physical ceiling measured: how many of its operations the database did per second. */
export interface PrimitiveCeilingResult {
  operation: PrimitiveOperation;
  /** Operations that succeeded in the measured time (the warm-up's not counted). */
  operations: number;
  durationSeconds: number;
  perSecond: number;
  failed: number;
  firstError: string | null;
  latencyMs: Percentiles;
  /**
   * What the database confirms it did: rows the commits left in the scratch table, or statements
   * that found their row; equal to `operations` when the measurement measured what it says.
   */
  confirmed: number;
  connections: number;
  /** The server's durability settings during the measurement, as every connection of the application gets them. */
  durability: { synchronousCommit: string; fsync: string; walSyncMethod: string; commitDelayMicroseconds: number };
  statement: string;
}

/** Rows of the scratch table primary-key selects pick from: few enough to stay in shared buffers, as the hot rows of an order do. */
const scratchRows = 10_000;

/**
 * Measures one physical ceiling of the database at `databaseUrl`: `operation`s as fast as a pool of
 * `connections` connections does them, with twice as many callers as connections so that a
 * connection's next statement is already queued in the pool when its answer arrives (as the
 * application's pool queues them). Works in a scratch schema of its own, dropped at the end.
 */
export async function measurePrimitiveCeiling(options: {
  databaseUrl: string;
  operation: PrimitiveOperation;
  connections: number;
  durationSeconds: number;
  warmUpSeconds: number;
  /** Called when the warm-up is over and the measured time starts. */
  onMeasuring?: () => void;
  /** Called when the last operation finished, before the pool's connections close. */
  onFinished?: () => void;
}): Promise<PrimitiveCeilingResult> {
  const { operation, connections } = options;
  const schema = `bench_ceiling_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: options.databaseUrl, application_name: 'orderstream-bench-ceiling' });
  await admin.connect();
  const pool = new pg.Pool({ connectionString: options.databaseUrl, max: connections, application_name: 'orderstream-bench-ceiling' });
  pool.on('error', () => undefined);
  try {
    await admin.query(`create schema ${schema}`);
    await admin.query(`create table ${schema}.commits (id bigint generated always as identity primary key, caller int not null, written_at timestamptz not null default now())`);
    await admin.query(`create table ${schema}.rows (id int primary key, payload text not null)`);
    await admin.query(`insert into ${schema}.rows (id, payload) select n, md5(n::text) from generate_series(1, ${scratchRows}) as n`);
    await admin.query(`analyze ${schema}.rows`);
    const statement = operation === 'commit'
      ? `insert into ${schema}.commits (caller) values ($1)`
      : `select id, payload from ${schema}.rows where id = $1`;
    const durability = await durabilityOf(pool);
    const run = async (seconds: number, record: boolean) => {
      const outcome = { operations: 0, failed: 0, found: 0, firstError: null as string | null, latencies: [] as number[] };
      const endsAt = performance.now() + seconds * 1000;
      await Promise.all(Array.from({ length: connections * 2 }, async (_, caller) => {
        while (performance.now() < endsAt) {
          const value = operation === 'commit' ? caller : 1 + Math.floor(Math.random() * scratchRows);
          try {
            const client = await pool.connect();
            // Timed on the connection: the wait for a free one (half the callers wait at any moment) is not the database's.
            const sentAt = performance.now();
            let answered: pg.QueryResult;
            try {
              answered = await client.query(statement, [value]);
            } finally {
              client.release();
            }
            if (!record) continue;
            outcome.latencies.push(performance.now() - sentAt);
            outcome.operations += 1;
            outcome.found += answered.rowCount ?? 0;
          } catch (error) {
            outcome.failed += 1;
            outcome.firstError ??= error instanceof Error ? error.message : String(error);
          }
        }
      }));
      return outcome;
    };
    if (options.warmUpSeconds > 0) await run(options.warmUpSeconds, false);
    const rowsBefore = await countRows(admin, `${schema}.commits`);
    options.onMeasuring?.();
    const startedAt = performance.now();
    const measured = await run(options.durationSeconds, true);
    const durationSeconds = (performance.now() - startedAt) / 1000;
    options.onFinished?.();
    const confirmed = operation === 'commit' ? (await countRows(admin, `${schema}.commits`)) - rowsBefore : measured.found;
    return {
      operation, operations: measured.operations, durationSeconds, perSecond: measured.operations / durationSeconds, failed: measured.failed,
      firstError: measured.firstError, latencyMs: percentiles(measured.latencies), confirmed, connections, durability,
      statement: statement.replace(schema, 'bench_ceiling'),
    };
  } finally {
    await pool.end();
    await admin.query(`drop schema if exists ${schema} cascade`).catch(() => undefined);
    await admin.end();
  }
}

async function durabilityOf(pool: pg.Pool): Promise<PrimitiveCeilingResult['durability']> {
  const answered = await pool.query<{ synchronous_commit: string; fsync: string; wal_sync_method: string; commit_delay: string }>(
    `select current_setting('synchronous_commit') as synchronous_commit, current_setting('fsync') as fsync,
            current_setting('wal_sync_method') as wal_sync_method, current_setting('commit_delay') as commit_delay`);
  const row = answered.rows[0];
  return {
    synchronousCommit: row?.synchronous_commit ?? 'unknown', fsync: row?.fsync ?? 'unknown', walSyncMethod: row?.wal_sync_method ?? 'unknown',
    commitDelayMicroseconds: Number(row?.commit_delay ?? 0),
  };
}

async function countRows(client: pg.Client, table: string): Promise<number> {
  return Number((await client.query<{ count: string }>(`select count(*) as count from ${table}`)).rows[0]?.count ?? 0);
}
