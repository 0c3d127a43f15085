/**
 * Identifiers that sort as they were made: UUID version 7 (RFC 9562), the milliseconds since the
 * epoch in the first 48 bits, then a 12-bit sequence and 62 random bits. Ids made one after another
 * by one generator compare (as strings, as PostgreSQL's B-trees compare them in the C collation, and
 * as bytes) in the order they were made, so a table keyed by them grows at the right edge of its
 * indexes instead of at random pages all over them: a bulk import writes its products' ids, and
 * the index on their creation time, as appends. Their 62 random bits make them hard to guess, if
 * less so than version 4's 122, and they say when they were made, as the record they name does anyway.
 */
/** Two hexadecimal digits for each byte value. */
const hexOf = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));
/** Ids' worth of random bytes drawn at once: one draw per id would cost more than the rest of the id. */
const pooledIds = 256;

export class TimeOrderedIds {
  readonly #now: () => number;
  readonly #random: (bytes: Uint8Array) => void;
  readonly #pool = new Uint8Array(16 * pooledIds);
  #pooled = 0;
  #lastMs = -1;
  #sequence = 0;

  constructor(options: { now?: () => number; random?: (bytes: Uint8Array) => void } = {}) {
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? ((bytes) => { crypto.getRandomValues(bytes); });
  }

  /** A new id, after every id this generator made before, whatever the clock did meanwhile. */
  next(): string {
    if (this.#pooled === 0) {
      this.#random(this.#pool);
      this.#pooled = pooledIds;
    }
    this.#pooled -= 1;
    const bytes = this.#pool.subarray(this.#pooled * 16, this.#pooled * 16 + 16);
    let ms = Math.max(0, Math.floor(this.#now()));
    if (ms > this.#lastMs) {
      // A new millisecond starts its sequence at a random point of the lower half, leaving room to count up.
      this.#lastMs = ms;
      this.#sequence = ((bytes[6] ?? 0) & 0x07) << 8 | (bytes[7] ?? 0);
    } else {
      // The same millisecond (or a clock that went back): count on from the last id, into the next millisecond when full.
      this.#sequence += 1;
      if (this.#sequence > 0xfff) {
        this.#lastMs += 1;
        this.#sequence = 0;
      }
      ms = this.#lastMs;
    }
    for (let index = 5; index >= 0; index -= 1) {
      bytes[index] = ms % 256;
      ms = Math.floor(ms / 256);
    }
    bytes[6] = 0x70 | (this.#sequence >> 8);
    bytes[7] = this.#sequence & 0xff;
    bytes[8] = 0x80 | ((bytes[8] ?? 0) & 0x3f);
    let id = '';
    for (let index = 0; index < 16; index += 1) {
      if (index === 4 || index === 6 || index === 8 || index === 10) id += '-';
      id += hexOf[bytes[index] ?? 0] ?? '00';
    }
    return id;
  }
}
