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

/**
 * Signs a short-lived access token for a user or service client with the current key (making one if
 * none exists yet). The current key is kept in memory: a token costs no database round trip, so
 * issuing one never needs a connection (sign-ins run it beside their session transaction). It is
 * read again after `keyCacheSeconds` (never longer than the verifiers' clock skew, so a token signed
 * with a key another process just retired still expires before that key leaves the JWKS), and at
 * once after a rotation in this process.
 */
export class IssueAccessToken {
  readonly #keys: SigningKeyRepository;
  readonly #generator: SigningKeyGenerator;
  readonly #signer: AccessTokenSigner;
  readonly #settings: TokenSettings;
  readonly #now: () => Date;
  readonly #keyCacheMs: number;
  #current: { key: SigningKey; loadedAtMs: number } | undefined;
  #loading: Promise<SigningKey> | undefined;

  constructor(deps: {
    keys: SigningKeyRepository; generator: SigningKeyGenerator; signer: AccessTokenSigner; settings: TokenSettings; now?: () => Date;
    keyCacheSeconds?: number;
  }) {
    this.#keys = deps.keys;
    this.#generator = deps.generator;
    this.#signer = deps.signer;
    this.#settings = deps.settings;
    this.#now = deps.now ?? (() => new Date());
    this.#keyCacheMs = Math.min(deps.keyCacheSeconds ?? 10, deps.settings.clockSkewSeconds) * 1000;
  }

  /** `sessionId` (the refresh-token family) becomes the token's `sid`, so revoking the session refuses the token. */
  async execute(subject: {
    id: string; email: string | undefined; roles: readonly Role[]; sessionId?: string; emailVerified?: boolean;
  }): Promise<IssuedAccessToken> {
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
      sessionId: subject.sessionId,
      emailVerified: subject.emailVerified,
      issuedAt: now,
      expiresAt: new Date(now.getTime() + ttl * 1000),
    }, key);
    return { accessToken, expiresIn: ttl };
  }

  /** Drops the remembered key (after a rotation), so the next token is signed with the new one. */
  forgetCurrentKey(): void {
    this.#current = undefined;
  }

  async #currentKey(now: Date): Promise<SigningKey> {
    const cached = this.#current;
    if (cached !== undefined && now.getTime() - cached.loadedAtMs < this.#keyCacheMs) return cached.key;
    // Concurrent sign-ins share one read instead of each asking the database.
    this.#loading ??= this.#loadCurrentKey(now).finally(() => { this.#loading = undefined; });
    return this.#loading;
  }

  async #loadCurrentKey(now: Date): Promise<SigningKey> {
    const key = await this.#keys.findCurrent() ?? await this.#makeFirstKey(now);
    this.#current = { key, loadedAtMs: now.getTime() };
    return key;
  }

  async #makeFirstKey(now: Date): Promise<SigningKey> {
    // First token ever (the rotation loop has not run yet): make the first key; a concurrent twin may win.
    const retiredUntil = publishedUntil(now, this.#settings.accessTokenTtlSeconds, this.#settings.clockSkewSeconds);
    await this.#keys.replaceCurrent(await this.#generator.generate(), now, retiredUntil, (existing) => existing === undefined);
    const made = await this.#keys.findCurrent();
    if (made === undefined) throw new Error('no signing key is current right after one was made');
    return made;
  }
}
