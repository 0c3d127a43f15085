import { isRotationDue, publishedUntil } from '../domain/signing-key.ts';
import type { TokenSettings } from './issue-access-token.ts';
import type { SigningKeyGenerator, SigningKeyRepository } from './ports.ts';

/**
 * Makes a new signing key current. The previous key is retired but stays in the JWKS until every
 * token it signed has expired. On a schedule it rotates only when the current key is old enough.
 */
export class RotateSigningKey {
  readonly #keys: SigningKeyRepository;
  readonly #generator: SigningKeyGenerator;
  readonly #settings: Pick<TokenSettings, 'accessTokenTtlSeconds' | 'clockSkewSeconds'>;
  readonly #rotationDays: number;
  readonly #now: () => Date;

  constructor(deps: {
    keys: SigningKeyRepository; generator: SigningKeyGenerator; settings: Pick<TokenSettings, 'accessTokenTtlSeconds' | 'clockSkewSeconds'>;
    rotationDays: number; now?: () => Date;
  }) {
    this.#keys = deps.keys;
    this.#generator = deps.generator;
    this.#settings = deps.settings;
    this.#rotationDays = deps.rotationDays;
    this.#now = deps.now ?? (() => new Date());
  }

  /** Rotates now (`onlyIfDue: false`, on demand) or only when the current key is older than the rotation period; answers whether it rotated. */
  async execute(options: { onlyIfDue: boolean }): Promise<boolean> {
    const now = this.#now();
    if (options.onlyIfDue && !isRotationDue(await this.#keys.findCurrent(), this.#rotationDays, now)) return false;
    const retiredUntil = publishedUntil(now, this.#settings.accessTokenTtlSeconds, this.#settings.clockSkewSeconds);
    return this.#keys.replaceCurrent(
      await this.#generator.generate(), now, retiredUntil,
      (current) => !options.onlyIfDue || isRotationDue(current, this.#rotationDays, now),
      // An operator's rotation is an administrative act; the scheduled one is not.
      options.onlyIfDue ? undefined : { action: 'identity.signing-key-rotated' },
    );
  }
}
