import type { PublicJwk } from '../domain/signing-key.ts';
import type { SigningKeyRepository } from './ports.ts';

/** The public keys verifiers need (the JWKS): the current key and retired keys whose tokens may still be valid. */
export class ListPublishedKeys {
  readonly #keys: SigningKeyRepository;
  readonly #now: () => Date;

  constructor(deps: { keys: SigningKeyRepository; now?: () => Date }) {
    this.#keys = deps.keys;
    this.#now = deps.now ?? (() => new Date());
  }

  execute(): Promise<PublicJwk[]> {
    return this.#keys.listPublished(this.#now());
  }
}
