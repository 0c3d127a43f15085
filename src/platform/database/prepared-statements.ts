import { createHash } from 'node:crypto';
import type pg from 'pg';

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
 * each connection holds on the server stays bounded.
 */
export class PreparedStatements {
  readonly #uses = new Map<string, number>();
  readonly #names = new Map<string, string>();

  /** The name `text` runs under, or undefined to run it unprepared (counting this use). */
  nameOf(text: string): string | undefined {
    const named = this.#names.get(text);
    if (named !== undefined) return named;
    if (this.#names.size >= maxPreparedStatements) return undefined;
    const uses = (this.#uses.get(text) ?? 0) + 1;
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
      if (typeof text === 'string' && Array.isArray(values) && values.length > 0) {
        const name = this.nameOf(text);
        if (name !== undefined) return query.call(client, { name, text, values }, ...args.slice(2));
      }
      return query.apply(client, args);
    };
    Object.defineProperty(client, 'query', { value: replacement, writable: true, configurable: true });
  }
}

const prepared = new WeakSet<pg.ClientBase>();
