import { createHash } from 'node:crypto';
import type pg from 'pg';
import { OverloadedError } from '../concurrency/overloaded.ts';

/** How often a statement's text must have run in this process before its connections keep it prepared. */
export const preparedAfterUses = 3;
/** The most statements a process keeps prepared (on each connection that runs them); later ones run unprepared. */
export const maxPreparedStatements = 250;
/** The most distinct texts a process counts on their way to being prepared; beyond them, new texts are not counted. */
const maxCountedTexts = 5000;

/**
 * Which statements the connections of a pool keep prepared on the server. A statement with
 * parameters whose text has run `preparedAfterUses` times gets a name (from a hash of its text),
 * and from then on each connection parses it once and binds it on every later run: PostgreSQL
 * neither parses nor analyses it again, and plans it again only while it judges a custom plan
 * better than the generic one. The texts that run all the time (a relay's read, a worker's claim,
 * a consumer's inbox insert) are the same few dozen; a text made once for its values (an `in`
 * list of a given length) rarely reaches the count, and the number of names is capped, so what
 * each connection holds on the server stays bounded. A `select *` whose table gained a column
 * while the process ran is refused by PostgreSQL once; its text is then never named again.
 */
export class PreparedStatements {
  readonly #uses = new Map<string, number>();
  readonly #names = new Map<string, string>();

  /** The name `text` runs under, or undefined to run it unprepared (counting this use). */
  nameOf(text: string): string | undefined {
    const named = this.#names.get(text);
    if (named !== undefined) return named;
    if (this.#names.size >= maxPreparedStatements) return undefined;
    const counted = this.#uses.get(text);
    if (counted === never) return undefined;
    const uses = (counted ?? 0) + 1;
    if (uses < preparedAfterUses) {
      if (uses === 1 && this.#uses.size >= maxCountedTexts) return undefined;
      this.#uses.set(text, uses);
      return undefined;
    }
    this.#uses.delete(text);
    const name = `os_${createHash('sha1').update(text).digest('base64url')}`;
    this.#names.set(text, name);
    return name;
  }

  /** Runs `text` unnamed from now on (its named statements stay on the connections that hold them, unused). */
  forget(text: string): void {
    this.#names.delete(text);
    this.#uses.set(text, never);
  }

  /** How many statements are named now. */
  get size(): number {
    return this.#names.size;
  }

  /**
   * Makes `client` run named statements for texts this registry names: a `query(text, values)`
   * with parameters becomes `query({ name, text, values })`. Every other call goes through as it
   * was made. Done once per client.
   */
  prepareOn(client: pg.ClientBase): void {
    if (prepared.has(client)) return;
    prepared.add(client);
    // pg's `query` is a set of overloads; the call is passed on with its own arguments, only the first one replaced. The
    // class's method is looked up at each call, so a wrapper installed on it later (an instrumentation) still sees every query.
    const replacement = (...args: unknown[]): unknown => {
      const query = (Object.getPrototypeOf(client) as { query: (...queryArgs: unknown[]) => unknown }).query;
      const [text, values] = args;
      // Only promise calls: a refused statement is answered below, which a callback could not be.
      if (typeof text === 'string' && Array.isArray(values) && values.length > 0 && args.length === 2) {
        const name = this.nameOf(text);
        if (name !== undefined) {
          return (query.call(client, { name, text, values }) as Promise<unknown>).catch((error: unknown) => {
            if (!isResultTypeChanged(error)) throw error;
            this.forget(text);
            // Outside a transaction nothing else was affected: run it again, unnamed. Inside, the transaction has failed.
            if (client.getTransactionStatus() === 'I') return query.call(client, text, values);
            throw new StatementChangedError(error);
          });
        }
      }
      return query.apply(client, args);
    };
    Object.defineProperty(client, 'query', { value: replacement, writable: true, configurable: true });
  }
}

const prepared = new WeakSet<pg.ClientBase>();

/** Counted uses of a text that is never named. */
const never = -1;

/**
 * PostgreSQL refuses to run a prepared statement whose result type changed: a `select *` over a
 * table a migration added a column to while the process ran (a service's new version migrating at
 * start while the old one still serves).
 */
function isResultTypeChanged(error: unknown): boolean {
  const candidate = error as { code?: unknown; message?: unknown } | null;
  return candidate?.code === '0A000' && typeof candidate.message === 'string' && candidate.message.includes('cached plan must not change result type');
}

/**
 * A named statement's table changed under it (a migration while the process ran) inside a
 * transaction, which the refusal ended. Its text is not named again, so the same work succeeds when
 * tried again: HTTP answers 503 with Retry-After, messaging delivers the message again.
 */
export class StatementChangedError extends OverloadedError {
  readonly code = 'STATEMENT_CHANGED';

  constructor(cause: unknown) {
    super('a statement whose table changed', 'a prepared statement\'s table changed under it (a migration); its transaction can be tried again', { cause });
    this.name = 'StatementChangedError';
  }
}
