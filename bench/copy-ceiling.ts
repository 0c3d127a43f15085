import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { median } from './statistics.ts';

/** What one COPY ceiling measured: the rows each COPY moved, and how long each of its runs took. */
export interface CopyMeasurement {
  rows: number;
  /** Each run's time in seconds, in the order they ran. */
  runSeconds: number[];
  /** The median run's rows per second. */
  rowsPerSecond: number;
  /** The statement as it ran, the scratch schema's name left out. */
  statement: string;
}

/** How many times each COPY runs; the median is the ceiling, so one run disturbed by other work does not set it. */
export const copyRuns = 3;

/**
 * PostgreSQL's own COPY of a catalogue import file into a scratch table of the catalogue's shape
 * (products and their stock in one row, the SKU its primary key), read by the server from `file`
 * (which the server's user must be able to read), each run into an emptied table and committed.
 * Works in a scratch schema of its own (`bench_copy_<random>`), dropped at the end.
 */
export async function measureCopyIn(databaseUrl: string, file: string): Promise<CopyMeasurement> {
  return withClient(databaseUrl, async (client) => {
    const schema = `bench_copy_${randomBytes(4).toString('hex')}`;
    await client.query(`create schema ${schema}`);
    try {
      return await copyInto(client, schema, file);
    } finally {
      await client.query(`drop schema if exists ${schema} cascade`).catch(() => undefined);
    }
  });
}

async function copyInto(client: pg.Client, schema: string, file: string): Promise<CopyMeasurement> {
  await client.query(`create table ${schema}.products (sku text primary key, name text not null, description text not null, price bigint not null, currency text not null, stock int not null)`);
  const statement = `copy ${schema}.products (sku, name, description, price, currency, stock) from ${pg.escapeLiteral(file)} with (format csv, header true)`;
  const runs: { rows: number; seconds: number }[] = [];
  for (let run = 0; run < copyRuns; run += 1) {
    await client.query(`truncate ${schema}.products`);
    runs.push(await timed(client, statement));
  }
  return measurement(runs, statement.replace(`${schema}.`, 'bench_copy.'));
}

/**
 * PostgreSQL's own COPY of every order (`select * from orders.orders`, as CSV with a header) to
 * `/dev/null` on the server: the orders read and formatted, written nowhere.
 */
export async function measureCopyOut(databaseUrl: string): Promise<CopyMeasurement> {
  return withClient(databaseUrl, async (client) => {
    const statement = `copy (select * from orders.orders) to '/dev/null' with (format csv, header true)`;
    const runs: { rows: number; seconds: number }[] = [];
    for (let run = 0; run < copyRuns; run += 1) runs.push(await timed(client, statement));
    return measurement(runs, statement);
  });
}

async function timed(client: pg.Client, statement: string): Promise<{ rows: number; seconds: number }> {
  const startedAt = performance.now();
  const answered = await client.query(statement);
  return { rows: answered.rowCount ?? 0, seconds: (performance.now() - startedAt) / 1000 };
}

function measurement(runs: readonly { rows: number; seconds: number }[], statement: string): CopyMeasurement {
  const seconds = median(runs.map((run) => run.seconds));
  const rows = runs[0]?.rows ?? 0;
  return { rows, runSeconds: runs.map((run) => run.seconds), rowsPerSecond: seconds > 0 ? rows / seconds : 0, statement };
}

async function withClient<T>(databaseUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl, application_name: 'orderstream-bench-copy' });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
