import type { UserRegisteredV1 } from '../contract.ts';
import type { FailureWindow, ThrottleSubject } from '../domain/login-throttle.ts';
import type { RefreshToken, RefreshTokenFamily } from '../domain/refresh-session.ts';
import type { ServiceClient } from '../domain/service-client.ts';
import type { NewSigningKey, PublicJwk, SigningKey } from '../domain/signing-key.ts';
import type { Role, User } from '../domain/user.ts';

/** Stores accounts. A new account and its `identity.user-registered` event commit together. */
export interface UserRepository {
  findByEmail(email: string): Promise<User | undefined>;
  findById(id: string): Promise<User | undefined>;
  /** Throws EmailTakenError when the email is taken. */
  add(user: User, event: UserRegisteredV1): Promise<void>;
  /** Stores the user's roles as they are now. */
  saveRoles(user: User): Promise<void>;
}

/** Hashes and checks passwords with a slow, memory-hard function. */
export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(hash: string, password: string): Promise<boolean>;
  /**
   * Does the same work as `verify` against a hash no password matches, so signing in to an account
   * that does not exist takes as long as a wrong password for one that does.
   */
  verifyDummy(password: string): Promise<void>;
}

/** Failed sign-ins, counted per account and per client address, kept in the database so every process sees them. */
export interface LoginFailureStore {
  countSince(subjects: readonly ThrottleSubject[], since: Date): Promise<FailureWindow[]>;
  record(subjects: readonly ThrottleSubject[], at: Date): Promise<void>;
  /** Forgets an account's failures after it signs in successfully. */
  clear(subject: ThrottleSubject): Promise<void>;
  /** Deletes failures older than `before`; answers how many. */
  pruneBefore(before: Date): Promise<number>;
}

/** Refresh tokens and their families, changed inside one transaction at a time. */
export interface SessionStore {
  /** Runs `work` in one transaction: everything it writes commits together or not at all. */
  transaction<T>(work: (sessions: SessionTransaction) => Promise<T>): Promise<T>;
  /** Deletes tokens that expired before `before` and families left without tokens; answers how many tokens. */
  pruneExpiredBefore(before: Date): Promise<number>;
}

export interface SessionTransaction {
  /** The token with this hash and its family, locked until the transaction ends, so one token is redeemed once. */
  findForUpdate(tokenHash: string): Promise<{ token: RefreshToken; family: RefreshTokenFamily } | undefined>;
  addFamily(family: RefreshTokenFamily): Promise<void>;
  addToken(token: RefreshToken): Promise<void>;
  markUsed(tokenHash: string, at: Date): Promise<void>;
  revokeFamily(familyId: string, at: Date, reason: 'logout' | 'reuse'): Promise<void>;
}

/** Signing keys; the private halves are stored encrypted by the adapter. */
export interface SigningKeyRepository {
  /** The key that signs new tokens, if any. */
  findCurrent(): Promise<SigningKey | undefined>;
  /** Public keys to publish at `now`: the current one and retired ones whose tokens may still be valid. */
  listPublished(now: Date): Promise<PublicJwk[]>;
  /**
   * With the current key locked, asks `shouldReplace(current)`; when true, retires the current key
   * (published until `retiredPublishedUntil`) and makes `replacement` current. Answers whether it did;
   * false also when another process replaced the key at the same moment.
   */
  replaceCurrent(
    replacement: NewSigningKey, now: Date, retiredPublishedUntil: Date, shouldReplace: (current: SigningKey | undefined) => boolean,
  ): Promise<boolean>;
}

/** Makes new ES256 key pairs. */
export interface SigningKeyGenerator {
  generate(): Promise<NewSigningKey>;
}

/** What an access token says. */
export interface AccessTokenClaims {
  issuer: string;
  audience: string;
  subject: string;
  roles: readonly Role[];
  email: string | undefined;
  tokenId: string;
  issuedAt: Date;
  expiresAt: Date;
}

/** Signs access tokens as compact JWS with a signing key. */
export interface AccessTokenSigner {
  sign(claims: AccessTokenClaims, key: SigningKey): Promise<string>;
}

/** Opaque high-entropy secrets (refresh tokens, client secrets) and the one-way digests stored instead of them. */
export interface SecretTokens {
  generate(): string;
  digest(secret: string): string;
  /** Compares a presented secret with a stored digest in constant time. */
  matches(secret: string, digest: string): boolean;
}

/** Stores service clients. */
export interface ServiceClientRepository {
  /** Throws InvalidServiceClientError when the name is taken. */
  add(client: ServiceClient): Promise<void>;
  findById(id: string): Promise<ServiceClient | undefined>;
}
