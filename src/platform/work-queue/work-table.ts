import { sql, type RawBuilder } from 'kysely';

/**
 * A table whose rows are work to do, each due at its `next_attempt_at`. A worker claims due rows
 * with a lease: it pushes their `next_attempt_at` to the lease's end, so a worker that dies
 * mid-attempt leaves its rows to come due again then, and nobody else takes them meanwhile.
 * The rows are the owner's records (a payment operation, a notification delivery, a message
 * retry); this describes only the columns the lease needs.
 */
export interface WorkTable {
  /** Schema-qualified, e.g. `payments.operations`. */
  readonly name: string;
  /** What the statements call the table; the caller's fragments (`where`, `returning`) use it. */
  readonly alias: string;
  /** The columns that identify a row. */
  readonly key: readonly string[];
  /**
   * The column naming the claim that holds a row's lease: a claim sets it, and only a write that
   * names it (`leaseHeld`) changes the row while the lease lasts. Absent when claims carry no token.
   */
  readonly token?: string;
  /** When set, a claim adds one to `attempts`: the column counts attempts started, one under way included. */
  readonly countsAttemptOnClaim?: boolean;
  /** When set, only rows whose `column` is `is` are work (others are finished records kept for reading). */
  readonly pending?: { readonly column: string; readonly is: string };
}

/** A `WorkTable` whose claims carry a token. */
export type TokenWorkTable = WorkTable & { readonly token: string };

/** One claim statement: which due rows it takes, how long it holds them, what it returns. */
export interface Claim {
  /** The most rows it takes. */
  readonly limit: number;
  /** When the lease ends: usually `msFromNow(leaseMs)`, or a time the caller computed. */
  readonly leaseUntil: RawBuilder<Date> | Date;
  /** The clock due times are compared with: the database's `now()` unless the caller gives its own. */
  readonly now?: Date;
  /** The claim's token (one for every row it takes); by default each row gets its own `gen_random_uuid()`. */
  readonly token?: string;
  /** A further condition a due row must meet, on `alias`, e.g. that no earlier row of its order waits. */
  readonly where?: RawBuilder<unknown>;
  /** Columns that order rows due at the same time (the due time orders first). */
  readonly tiebreak?: readonly string[];
  /** Further columns of the claimed rows that `join` needs, read as `due.<column>`. */
  readonly carry?: readonly string[];
  /** Joins after `from due`, for `returning` to read the rows a claimed row points at. */
  readonly join?: RawBuilder<unknown>;
  /** Further assignments, e.g. `updated_at = now()`. */
  readonly set?: RawBuilder<unknown>;
  /** What the statement returns, on `alias` and the joined tables. */
  readonly returning: RawBuilder<unknown>;
}

/** The database's time `ms` milliseconds from now: the end of a lease, or when a retry comes due. */
export function msFromNow(ms: number): RawBuilder<Date> {
  return sql<Date>`now() + make_interval(secs => ${ms / 1000})`;
}

/**
 * The statement that claims up to `limit` due rows, earliest due first: one statement, so that its
 * row locks (`for update skip locked`) last only while it runs and workers never wait on each
 * other, and the claimed rows leave it already leased. Execute it with `.execute(db)`.
 */
export function claimDue<Row>(table: WorkTable, claim: Claim): RawBuilder<Row> {
  const alias = sql.id(table.alias);
  const column = (name: string) => sql.ref(`${table.alias}.${name}`);
  const now = claim.now === undefined ? sql`now()` : sql`${claim.now}`;
  const due = [sql`${column('next_attempt_at')} <= ${now}`, ...pendingOf(table), ...(claim.where === undefined ? [] : [claim.where])];
  const assignments = [
    sql`next_attempt_at = ${claim.leaseUntil}`,
    ...(table.countsAttemptOnClaim === true ? [sql`attempts = ${column('attempts')} + 1`] : []),
    ...(table.token === undefined ? [] : [sql`${sql.id(table.token)} = ${claim.token ?? sql`gen_random_uuid()`}`]),
    ...(claim.set === undefined ? [] : [claim.set]),
  ];
  return sql<Row>`
    with due as (
      select ${sql.join([...table.key, ...(claim.carry ?? [])].map(column))}
      from ${sql.table(table.name)} as ${alias}
      where ${sql.join(due, sql` and `)}
      order by ${sql.join([column('next_attempt_at'), ...(claim.tiebreak ?? []).map(column)])}
      limit ${claim.limit}
      for update of ${alias} skip locked
    )
    update ${sql.table(table.name)} as ${alias}
    set ${sql.join(assignments)}
    from due ${claim.join ?? sql``}
    where ${sql.join(table.key.map((key) => sql`${column(key)} = ${sql.ref(`due.${key}`)}`), sql` and `)}
    returning ${claim.returning}`;
}

/**
 * The condition that the row `key` is still leased to the claim `token` (and still pending): a
 * write under it changes nothing once the lease ran out and another claim took the row, so a
 * stale worker's outcome never overwrites its successor's. For a statement on `table.alias`.
 */
export function leaseHeld(table: TokenWorkTable, key: readonly unknown[], token: string): RawBuilder<boolean> {
  if (key.length !== table.key.length) throw new Error(`${table.name} is keyed by ${table.key.join(', ')}, not ${String(key.length)} values`);
  const column = (name: string) => sql.ref(`${table.alias}.${name}`);
  return sql<boolean>`${sql.join([
    ...table.key.map((name, index) => sql`${column(name)} = ${key[index]}`),
    sql`${column(table.token)} = ${token}`,
    ...pendingOf(table),
  ], sql` and `)}`;
}

/**
 * `leaseHeld` for a batch: the row is the one `claims` names and is still leased to it, where
 * `claims` is a relation (an `unnest(...) as c (...)`) with columns named like the table's key and token.
 */
export function leasesHeldBy(table: TokenWorkTable, claims: string): RawBuilder<boolean> {
  const column = (name: string) => sql.ref(`${table.alias}.${name}`);
  return sql<boolean>`${sql.join([
    ...[...table.key, table.token].map((name) => sql`${column(name)} = ${sql.ref(`${claims}.${name}`)}`),
    ...pendingOf(table),
  ], sql` and `)}`;
}

function pendingOf(table: WorkTable): RawBuilder<unknown>[] {
  return table.pending === undefined ? [] : [sql`${sql.ref(`${table.alias}.${table.pending.column}`)} = ${sql.lit(table.pending.is)}`];
}
