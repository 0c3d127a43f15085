import type { SigningKeyRepository } from './ports.ts';

/**
 * Re-encrypts every stored signing key under the current key-encryption key (`orderstream keys
 * rewrap`), the step of a key-encryption-key rotation after which the previous key can be dropped.
 * The keys themselves do not change: tokens they signed stay valid.
 */
export class RewrapSigningKeys {
  readonly #keys: SigningKeyRepository;

  constructor(deps: { keys: SigningKeyRepository }) {
    this.#keys = deps.keys;
  }

  execute(): Promise<{ rewrapped: number; total: number }> {
    return this.#keys.rewrapAll();
  }
}
