import { randomBytes } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { hash, verify, type Options } from '@node-rs/argon2';
import { WorkLimiter, type WorkLimits } from '../../../../platform/concurrency/work-limiter.ts';
import type { PasswordHasher } from '../../application/ports.ts';

/**
 * argon2id (the library's default algorithm: its `Algorithm` is a const enum, which type stripping
 * cannot read, so it is left implicit and a test checks every hash is `$argon2id$`). Parameters: OWASP's recommended minimum (Password Storage Cheat Sheet, 2024): 19 MiB of
 * memory, 2 passes, 1 lane, a 32-byte output and a random 16-byte salt per hash. About 20-40 ms per
 * hash on one core of the reference machine. Each hash records its parameters, so raising them later
 * keeps old hashes verifiable.
 */
export const argon2Parameters = {
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
  outputLen: 32,
} satisfies Options;

/**
 * How many hashes run and wait at once, unless configured (PASSWORD_HASHING_*): one per core, 64
 * waiting, each for at most 2 s. Past that a sign-in is refused with 503 and Retry-After rather than
 * queued behind work that would take longer than the client waits.
 */
export function defaultPasswordHashingLimits(): WorkLimits {
  return { concurrency: availableParallelism(), maxQueued: 64, maxWaitMs: 2000 };
}

/**
 * PasswordHasher with argon2id (@node-rs/argon2); hashing runs off the event loop, on libuv's thread
 * pool, and never more at once than its limiter allows: a sign-in storm neither fills the pool that
 * file and crypto work share nor queues without end. A refused hash throws `OverloadedError`.
 */
export class Argon2PasswordHasher implements PasswordHasher {
  /** Every hash and verification goes through it; read by metrics. */
  readonly limiter: WorkLimiter;
  readonly #parameters: Options;
  #dummyHash: Promise<string> | undefined;

  constructor(options: { limits?: Partial<WorkLimits>; parameters?: Options } = {}) {
    const defaults = defaultPasswordHashingLimits();
    const limits = options.limits ?? {};
    this.limiter = new WorkLimiter({
      resource: 'password hashing', retryAfterSeconds: 1,
      // An unset setting (PASSWORD_HASHING_CONCURRENCY) keeps its default.
      concurrency: limits.concurrency ?? defaults.concurrency,
      maxQueued: limits.maxQueued ?? defaults.maxQueued,
      maxWaitMs: limits.maxWaitMs ?? defaults.maxWaitMs,
    });
    this.#parameters = options.parameters ?? argon2Parameters;
  }

  hash(password: string): Promise<string> {
    return this.limiter.run(() => hash(password, this.#parameters));
  }

  verify(passwordHash: string, password: string): Promise<boolean> {
    // A refusal is thrown from run(), outside the check: it must not read as a wrong password.
    return this.limiter.run(() => verifiedNow(passwordHash, password));
  }

  verifyDummy(password: string): Promise<void> {
    return this.limiter.run(async () => {
      // Made once per process with the same parameters as real hashes, so verifying against it costs the same.
      this.#dummyHash ??= hash(randomBytes(32).toString('base64url'), this.#parameters);
      await verifiedNow(await this.#dummyHash, password);
    });
  }
}

async function verifiedNow(passwordHash: string, password: string): Promise<boolean> {
  try {
    return await verify(passwordHash, password);
  } catch {
    // A malformed stored hash matches no password.
    return false;
  }
}
