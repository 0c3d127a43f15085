import type {
  AccessTokenClaims, AccessTokenSigner, PasswordHasher, SecretTokens, ServiceClientRepository, SessionStore,
  SessionTransaction, SigningKeyGenerator, SigningKeyRepository, TokenRevocationStore, UserRepository,
} from '../application/ports.ts';
import type { UserRegisteredV1 } from '../contract.ts';
import { EmailTakenError, InvalidServiceClientError } from '../domain/identity.errors.ts';
import type { RefreshToken, RefreshTokenFamily } from '../domain/refresh-session.ts';
import type { ServiceClient } from '../domain/service-client.ts';
import { isPublished, type NewSigningKey, type PublicJwk, type SigningKey } from '../domain/signing-key.ts';
import type { User } from '../domain/user.ts';
import type { RevocationReason, TokenRevocation } from '../domain/token-revocation.ts';

/** UserRepository in memory; `published` holds the events a commit would emit. */
export class InMemoryUserRepository implements UserRepository {
  readonly users = new Map<string, User>();
  readonly published: UserRegisteredV1[] = [];

  findByEmail(email: string): Promise<User | undefined> {
    return Promise.resolve([...this.users.values()].find((user) => user.email === email));
  }

  findById(id: string): Promise<User | undefined> {
    return Promise.resolve(this.users.get(id));
  }

  async add(user: User, event: UserRegisteredV1): Promise<void> {
    if (await this.findByEmail(user.email) !== undefined) throw new EmailTakenError(user.email);
    this.users.set(user.id, user);
    this.published.push(event);
  }

  saveRoles(user: User): Promise<void> {
    this.users.set(user.id, user);
    return Promise.resolve();
  }

  saveDisabled(userId: string, disabledAt: Date | undefined): Promise<void> {
    const user = this.users.get(userId);
    if (user !== undefined) this.users.set(userId, { ...user, disabledAt });
    return Promise.resolve();
  }

  savePasswordHash(userId: string, passwordHash: string): Promise<void> {
    const user = this.users.get(userId);
    if (user !== undefined) this.users.set(userId, { ...user, passwordHash });
    return Promise.resolve();
  }

  saveEmailVerified(userId: string, at: Date): Promise<void> {
    const user = this.users.get(userId);
    if (user !== undefined && user.emailVerifiedAt === undefined) this.users.set(userId, { ...user, emailVerifiedAt: at });
    return Promise.resolve();
  }
}

/** A fast stand-in for argon2: `hashed:<password>`; counts dummy verifications. */
export class FakePasswordHasher implements PasswordHasher {
  readonly dummyVerifications: string[] = [];
  readonly verifications: string[] = [];

  hash(password: string): Promise<string> {
    return Promise.resolve(`hashed:${password}`);
  }

  verify(hash: string, password: string): Promise<boolean> {
    this.verifications.push(password);
    return Promise.resolve(hash === `hashed:${password}`);
  }

  verifyDummy(password: string): Promise<void> {
    this.dummyVerifications.push(password);
    return Promise.resolve();
  }
}

/** Deletes the entries that expired before `before`; answers how many went. */
export function pruneExpired(entries: Map<string, { expiresAt: Date }>, before: Date): number {
  let pruned = 0;
  for (const [key, entry] of entries) {
    if (entry.expiresAt.getTime() < before.getTime()) {
      entries.delete(key);
      pruned += 1;
    }
  }
  return pruned;
}

/** Refresh tokens in memory; a transaction is simply run (tests here are sequential). */
export class InMemorySessionStore implements SessionStore {
  readonly families = new Map<string, RefreshTokenFamily & { revokedReason?: string }>();
  readonly tokens = new Map<string, RefreshToken>();

  transaction<T>(work: (sessions: SessionTransaction) => Promise<T>): Promise<T> {
    return work({
      findForUpdate: (tokenHash) => {
        const token = this.tokens.get(tokenHash);
        const family = token === undefined ? undefined : this.families.get(token.familyId);
        return Promise.resolve(token === undefined || family === undefined ? undefined : { token, family });
      },
      addFamily: (family) => { this.families.set(family.id, family); return Promise.resolve(); },
      addToken: (token) => { this.tokens.set(token.tokenHash, token); return Promise.resolve(); },
      markUsed: (tokenHash, at) => {
        const token = this.tokens.get(tokenHash);
        if (token !== undefined) this.tokens.set(tokenHash, { ...token, usedAt: at });
        return Promise.resolve();
      },
      revokeFamily: (familyId, at, reason) => {
        const family = this.families.get(familyId);
        if (family?.revokedAt === undefined && family !== undefined) this.families.set(familyId, { ...family, revokedAt: at, revokedReason: reason });
        return Promise.resolve();
      },
      revokeFamiliesOf: (userId, at, reason) => {
        const revoked: string[] = [];
        for (const family of this.families.values()) {
          if (family.userId !== userId || family.revokedAt !== undefined) continue;
          this.families.set(family.id, { ...family, revokedAt: at, revokedReason: reason });
          revoked.push(family.id);
        }
        return Promise.resolve(revoked);
      },
    });
  }

  pruneExpiredBefore(before: Date): Promise<number> {
    return Promise.resolve(pruneExpired(this.tokens, before));
  }
}

/** Signing keys in memory. */
export class InMemorySigningKeyRepository implements SigningKeyRepository {
  readonly keys: SigningKey[] = [];

  findCurrent(): Promise<SigningKey | undefined> {
    return Promise.resolve(this.keys.find((key) => key.retiredAt === undefined));
  }

  listPublished(now: Date): Promise<PublicJwk[]> {
    return Promise.resolve(this.keys.filter((key) => isPublished(key, now)).map((key) => key.publicJwk).reverse());
  }

  async replaceCurrent(replacement: NewSigningKey, now: Date, retiredPublishedUntil: Date, shouldReplace: (current: SigningKey | undefined) => boolean): Promise<boolean> {
    const current = await this.findCurrent();
    if (!shouldReplace(current)) return false;
    if (current !== undefined) this.keys[this.keys.indexOf(current)] = { ...current, retiredAt: now, publishedUntil: retiredPublishedUntil };
    this.keys.push({ ...replacement, createdAt: now, retiredAt: undefined, publishedUntil: undefined });
    return true;
  }

  /** Nothing is encrypted in memory: every key is as it would be after a rewrap. */
  rewrapAll(): Promise<{ rewrapped: number; total: number }> {
    return Promise.resolve({ rewrapped: 0, total: this.keys.length });
  }
}

/** Key pairs named key-1, key-2… with placeholder material. */
export class FakeSigningKeyGenerator implements SigningKeyGenerator {
  #sequence = 0;

  generate(): Promise<NewSigningKey> {
    this.#sequence += 1;
    const kid = `key-${this.#sequence}`;
    return Promise.resolve({
      kid,
      publicJwk: { kty: 'EC', crv: 'P-256', x: `x${this.#sequence}`, y: `y${this.#sequence}`, kid, alg: 'ES256', use: 'sig' },
      privateJwk: { d: `d${this.#sequence}` },
    });
  }
}

/** "Signs" by writing the claims and the key id as JSON, so tests can read what a token would say. */
export class FakeAccessTokenSigner implements AccessTokenSigner {
  sign(claims: AccessTokenClaims, key: SigningKey): Promise<string> {
    return Promise.resolve(JSON.stringify({ ...claims, kid: key.kid }));
  }
}

/** Predictable secrets: secret-1, secret-2…, digested as `digest:<secret>`. */
export class FakeSecretTokens implements SecretTokens {
  #sequence = 0;

  generate(): string {
    this.#sequence += 1;
    return `secret-${this.#sequence}`;
  }

  digest(secret: string): string {
    return `digest:${secret}`;
  }

  matches(secret: string, digest: string): boolean {
    return this.digest(secret) === digest;
  }
}

/** Service clients in memory. */
export class InMemoryServiceClientRepository implements ServiceClientRepository {
  readonly clients = new Map<string, ServiceClient>();

  add(client: ServiceClient): Promise<void> {
    if ([...this.clients.values()].some((existing) => existing.name === client.name)) {
      return Promise.reject(new InvalidServiceClientError(`A service client named ${client.name} already exists`));
    }
    this.clients.set(client.id, client);
    return Promise.resolve();
  }

  findById(id: string): Promise<ServiceClient | undefined> {
    return Promise.resolve(this.clients.get(id));
  }
}

/** Token revocations in memory, with the reason each was made for. */
export class InMemoryTokenRevocationStore implements TokenRevocationStore {
  readonly entries: { revocation: TokenRevocation; reason: RevocationReason; at: Date }[] = [];

  add(revocation: TokenRevocation, reason: RevocationReason, at: Date): Promise<void> {
    this.entries.push({ revocation, reason, at });
    return Promise.resolve();
  }

  listActive(now: Date): Promise<TokenRevocation[]> {
    return Promise.resolve(this.entries.map((entry) => entry.revocation).filter((revocation) => revocation.expiresAt.getTime() > now.getTime()));
  }

  pruneExpiredBefore(before: Date): Promise<number> {
    const kept = this.entries.filter((entry) => entry.revocation.expiresAt.getTime() >= before.getTime());
    const pruned = this.entries.length - kept.length;
    this.entries.splice(0, this.entries.length, ...kept);
    return Promise.resolve(pruned);
  }
}
