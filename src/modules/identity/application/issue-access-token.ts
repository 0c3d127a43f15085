import { publishedUntil, type SigningKey } from '../domain/signing-key.ts';
import type { Role } from '../domain/user.ts';
import type { AccessTokenSigner, SigningKeyGenerator, SigningKeyRepository } from './ports.ts';

/** What every token the built-in issuer signs shares. */
export interface TokenSettings {
  issuer: string;
  audience: string;
  accessTokenTtlSeconds: number;
  clockSkewSeconds: number;
}

/** A signed access token and its lifetime in seconds. */
export interface IssuedAccessToken {
  accessToken: string;
  expiresIn: number;
}

/** Signs a short-lived access token for a user or service client with the current key (making one if none exists yet). */
export class IssueAccessToken {
  readonly #keys: SigningKeyRepository;
  readonly #generator: SigningKeyGenerator;
  readonly #signer: AccessTokenSigner;
  readonly #settings: TokenSettings;
  readonly #now: () => Date;

  constructor(deps: {
    keys: SigningKeyRepository; generator: SigningKeyGenerator; signer: AccessTokenSigner; settings: TokenSettings; now?: () => Date;
  }) {
    this.#keys = deps.keys;
    this.#generator = deps.generator;
    this.#signer = deps.signer;
    this.#settings = deps.settings;
    this.#now = deps.now ?? (() => new Date());
  }

  async execute(subject: { id: string; email: string | undefined; roles: readonly Role[] }): Promise<IssuedAccessToken> {
    const now = this.#now();
    const key = await this.#currentKey(now);
    const ttl = this.#settings.accessTokenTtlSeconds;
    const accessToken = await this.#signer.sign({
      issuer: this.#settings.issuer,
      audience: this.#settings.audience,
      subject: subject.id,
      roles: subject.roles,
      email: subject.email,
      tokenId: crypto.randomUUID(),
      issuedAt: now,
      expiresAt: new Date(now.getTime() + ttl * 1000),
    }, key);
    return { accessToken, expiresIn: ttl };
  }

  async #currentKey(now: Date): Promise<SigningKey> {
    const current = await this.#keys.findCurrent();
    if (current !== undefined) return current;
    // First token ever (the rotation loop has not run yet): make the first key; a concurrent twin may win.
    const retiredUntil = publishedUntil(now, this.#settings.accessTokenTtlSeconds, this.#settings.clockSkewSeconds);
    await this.#keys.replaceCurrent(await this.#generator.generate(), now, retiredUntil, (existing) => existing === undefined);
    const made = await this.#keys.findCurrent();
    if (made === undefined) throw new Error('no signing key is current right after one was made');
    return made;
  }
}
