import { randomBytes } from 'node:crypto';
import { hash, verify, type Options } from '@node-rs/argon2';
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

/** PasswordHasher with argon2id (@node-rs/argon2); hashing runs off the event loop. */
export class Argon2PasswordHasher implements PasswordHasher {
  readonly #options: Options;
  #dummyHash: Promise<string> | undefined;

  constructor(options: Options = argon2Parameters) {
    this.#options = options;
  }

  hash(password: string): Promise<string> {
    return hash(password, this.#options);
  }

  async verify(passwordHash: string, password: string): Promise<boolean> {
    try {
      return await verify(passwordHash, password);
    } catch {
      // A malformed stored hash matches no password.
      return false;
    }
  }

  async verifyDummy(password: string): Promise<void> {
    // Made once per process with the same parameters as real hashes, so verifying against it costs the same.
    this.#dummyHash ??= hash(randomBytes(32).toString('base64url'), this.#options);
    await this.verify(await this.#dummyHash, password);
  }
}
