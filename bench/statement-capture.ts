import pg from 'pg';

/** One statement as a client sent it, with what PostgreSQL answered. */
export interface CapturedStatement {
  text: string;
  values: readonly unknown[];
  /** The rows answered; empty for statements that return none. */
  rows: readonly Record<string, unknown>[];
  rowCount: number | null;
  /** INSERT, UPDATE, SELECT, BEGIN, ... as PostgreSQL reported it; null when the statement failed. */
  command: string | null;
}

/**
 * What one connection committed (or rolled back) in one go: a whole transaction from BEGIN to
 * COMMIT, or a single statement outside a transaction (which PostgreSQL commits by itself).
 */
export interface CapturedUnit {
  connection: number;
  /** Position of the unit's first statement among every statement captured. */
  sequence: number;
  transaction: boolean;
  outcome: 'commit' | 'rollback' | 'open';
  statements: CapturedStatement[];
}

type QueryFunction = (this: pg.Client, ...args: unknown[]) => unknown;

interface QueryResultLike { rows?: unknown; rowCount?: unknown; command?: unknown }

/**
 * Records every statement any `pg` client in this process sends while it runs, grouped by
 * connection into transactions. `pg.Client.prototype.query` is wrapped, so the application's
 * pool, pg-boss's pool and listeners are all seen without changing their code; connections whose
 * `application_name` is `ignoredApplication` (the benchmark's own observer) are left out.
 */
export class StatementCapture {
  readonly #ignoredApplication: string;
  readonly #units: CapturedUnit[] = [];
  readonly #open = new Map<pg.Client, CapturedUnit>();
  readonly #connections = new WeakMap<pg.Client, number>();
  #nextConnection = 0;
  #sequence = 0;
  #original: QueryFunction | undefined;

  constructor(options: { ignoredApplication: string }) {
    this.#ignoredApplication = options.ignoredApplication;
  }

  /** Starts recording. */
  start(): void {
    if (this.#original !== undefined) throw new Error('statement capture already started');
    const prototype = pg.Client.prototype as unknown as { query: QueryFunction };
    const original = prototype.query;
    this.#original = original;
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the wrapper needs both the capture and the client's own `this`
    const capture = this;
    prototype.query = function capturedQuery(this: pg.Client, ...args: unknown[]): unknown {
      const statement = capture.#record(this, args);
      if (statement === undefined) return original.apply(this, args);
      const callbackIndex = args.findIndex((argument) => typeof argument === 'function');
      if (callbackIndex >= 0) {
        const callback = args[callbackIndex] as (error: unknown, result: unknown) => void;
        args[callbackIndex] = (error: unknown, result: unknown) => {
          capture.#answer(statement, error === null || error === undefined ? result : undefined);
          callback(error, result);
        };
        return original.apply(this, args);
      }
      const answered = original.apply(this, args);
      if (answered instanceof Promise) {
        void answered.then((result: unknown) => { capture.#answer(statement, result); }, () => { capture.#answer(statement, undefined); });
      }
      return answered;
    };
  }

  /** Stops recording and answers the units recorded, in the order they began. */
  stop(): CapturedUnit[] {
    if (this.#original !== undefined) {
      (pg.Client.prototype as unknown as { query: QueryFunction }).query = this.#original;
      this.#original = undefined;
    }
    return [...this.#units].sort((left, right) => left.sequence - right.sequence);
  }

  #record(client: pg.Client, args: unknown[]): CapturedStatement | undefined {
    const parameters = (client as unknown as { connectionParameters?: { application_name?: string } }).connectionParameters;
    if (parameters?.application_name === this.#ignoredApplication) return undefined;
    const [first, second] = args;
    let text: string | undefined;
    let values: unknown[] = [];
    if (typeof first === 'string') {
      text = first;
      if (Array.isArray(second)) values = second;
    } else if (typeof first === 'object' && first !== null && typeof (first as { text?: unknown }).text === 'string') {
      text = (first as { text: string }).text;
      const given = (first as { values?: unknown }).values;
      if (Array.isArray(given)) values = given;
    }
    if (text === undefined) return undefined;
    const statement: CapturedStatement = { text, values: values.map(copyOf), rows: [], rowCount: null, command: null };
    let connection = this.#connections.get(client);
    if (connection === undefined) {
      connection = this.#nextConnection++;
      this.#connections.set(client, connection);
    }
    const boundary = transactionBoundary(text);
    const open = this.#open.get(client);
    if (boundary === 'begin' && /\bcommit\s*;?\s*$/i.test(text)) {
      // A whole transaction sent as one text (`BEGIN; ...; COMMIT;`, as pg-boss does).
      this.#units.push({ connection, sequence: this.#sequence++, transaction: true, outcome: 'commit', statements: [statement] });
      return statement;
    }
    if (boundary === 'begin' || open === undefined) {
      const unit: CapturedUnit = { connection, sequence: this.#sequence++, transaction: boundary === 'begin', outcome: 'open', statements: [statement] };
      this.#units.push(unit);
      if (boundary === 'begin') this.#open.set(client, unit);
      else unit.outcome = 'commit';
      return statement;
    }
    open.statements.push(statement);
    if (boundary === 'commit' || boundary === 'rollback') {
      open.outcome = boundary;
      this.#open.delete(client);
    }
    return statement;
  }

  #answer(statement: CapturedStatement, result: unknown): void {
    const last = Array.isArray(result) ? (result.at(-1) as unknown) : result;
    if (typeof last !== 'object' || last === null) return;
    const { rows, rowCount, command } = last as QueryResultLike;
    statement.rows = Array.isArray(rows) ? (rows as Record<string, unknown>[]) : [];
    statement.rowCount = typeof rowCount === 'number' ? rowCount : null;
    statement.command = typeof command === 'string' ? command : null;
  }
}

/** Statements and round trips counted so far. */
export interface StatementCount {
  /** Statements other than BEGIN, COMMIT and ROLLBACK (a whole transaction sent as one text counts once). */
  statements: number;
  /** Every query sent, BEGIN and COMMIT included. */
  roundTrips: number;
}

/**
 * Counts the statements every `pg` client in this process sends while it runs, without recording
 * them: cheap enough to run under load, so a scenario can tell what its orders cost in statements.
 * Wraps `pg.Client.prototype.query` as the capture does; connections whose `application_name` is
 * `ignoredApplication` (the benchmark's own observer) are left out.
 */
export class StatementCounter {
  readonly #ignoredApplication: string;
  readonly #count: StatementCount = { statements: 0, roundTrips: 0 };
  #original: QueryFunction | undefined;

  constructor(options: { ignoredApplication: string }) {
    this.#ignoredApplication = options.ignoredApplication;
  }

  /** Starts counting. */
  start(): void {
    if (this.#original !== undefined) throw new Error('statement counter already started');
    const prototype = pg.Client.prototype as unknown as { query: QueryFunction };
    const original = prototype.query;
    this.#original = original;
    const count = this.#count;
    const ignored = this.#ignoredApplication;
    prototype.query = function countedQuery(this: pg.Client, ...args: unknown[]): unknown {
      const parameters = (this as unknown as { connectionParameters?: { application_name?: string } }).connectionParameters;
      if (parameters?.application_name !== ignored) {
        const [first] = args;
        const text = typeof first === 'string' ? first : (first as { text?: unknown } | null)?.text;
        if (typeof text === 'string') {
          count.roundTrips += 1;
          if (!isBoundaryOnly(text)) count.statements += 1;
        }
      }
      return original.apply(this, args);
    };
  }

  /** The counts so far. */
  read(): StatementCount {
    return { ...this.#count };
  }

  /** Stops counting (the counts stay readable). */
  stop(): void {
    if (this.#original === undefined) return;
    (pg.Client.prototype as unknown as { query: QueryFunction }).query = this.#original;
    this.#original = undefined;
  }
}

/** True for a text that only begins, commits or rolls back a transaction (not one that carries statements between them). */
export function isBoundaryOnly(text: string): boolean {
  return transactionBoundary(text) !== undefined && !/;\s*\S/.test(text);
}

/** BEGIN, COMMIT or ROLLBACK (not ROLLBACK TO SAVEPOINT), else undefined. */
export function transactionBoundary(text: string): 'begin' | 'commit' | 'rollback' | undefined {
  const head = text.trimStart().slice(0, 24).toLowerCase();
  if (/^(begin|start transaction)\b/.test(head)) return 'begin';
  if (/^(commit|end)\b/.test(head)) return 'commit';
  if (/^rollback\b/.test(head) && !/^rollback\s+to\b/.test(head)) return 'rollback';
  return undefined;
}

/** Parameters are kept as sent: a later change to the caller's array must not rewrite history. */
function copyOf(value: unknown): unknown {
  try {
    return structuredClone(value);
  } catch {
    return value;
  }
}
