import type { UserRegisteredV1 } from '../contract.ts';
import type { AccountEmail, AccountEmailKind } from '../domain/account-email.ts';
import type { AccountToken, AccountTokenPurpose } from '../domain/account-token.ts';
import type { SignInAttempt } from '../domain/login-throttle.ts';
import type { RefreshToken, RefreshTokenFamily } from '../domain/refresh-session.ts';
import type { ServiceClient } from '../domain/service-client.ts';
import type { NewSigningKey, PublicJwk, SigningKey } from '../domain/signing-key.ts';
import type { Role, User } from '../domain/user.ts';
import type { RevocationReason, TokenRevocation } from '../domain/token-revocation.ts';

/**
 * An administrative act on identity's data, as the audit trail keeps it (src/platform/audit): the
 * store that performs the act records it in the same transaction, so a failed act leaves no entry.
 */
export interface AdminAct {
  action: string;
  targetId: string;
  before?: unknown;
  after?: unknown;
}

/** Stores accounts. A new account and its `identity.user-registered` event commit together. */
export interface UserRepository {
  findByEmail(email: string): Promise<User | undefined>;
  findById(id: string): Promise<User | undefined>;
  /** Throws EmailTakenError when the email is taken. */
  add(user: User, event: UserRegisteredV1): Promise<void>;
  /** Stores the user's roles as they are now; with `act`, records it in the audit trail in the same transaction. */
  saveRoles(user: User, act?: AdminAct): Promise<void>;
  /** Stores when the account was disabled, or that it is not (undefined); with `act`, records it in the audit trail in the same transaction. */
  saveDisabled(userId: string, disabledAt: Date | undefined, act?: AdminAct): Promise<void>;
  /** Stores a new password hash. */
  savePasswordHash(userId: string, passwordHash: string): Promise<void>;
  /** Records that the owner proved the address is theirs, unless already recorded. */
  saveEmailVerified(userId: string, at: Date): Promise<void>;
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

/** An attempt counted against every sign-in budget, to be settled once its password was checked (or could not be). */
export interface ThrottleReservation {
  readonly attempt: SignInAttempt;
  readonly at: Date;
  /**
   * Where this attempt moved the pair's gate and the account's (undefined: it did not count for the
   * account), so giving the attempt back reopens a gate only if no later attempt moved it since.
   */
  readonly pairGateAt: Date;
  readonly accountGateAt: Date | undefined;
}

/**
 * Sign-in budgets per (account, address) pair, per address and per account, kept in the database so
 * every process counts the same attempts. `reserve` checks and counts in one step, so concurrent
 * attempts can never get past a budget together.
 */
export interface LoginThrottleStore {
  /** Counts the attempt as a failure against every budget, or counts nothing and answers how long to wait. */
  reserve(attempt: SignInAttempt, now: Date): Promise<ThrottleReservation | { retryAfterSeconds: number }>;
  /** The password was right: the pair's failures are forgotten, the address and the account get the attempt back. */
  succeed(reservation: ThrottleReservation): Promise<void>;
  /** The password could not be checked (hashing overloaded, an error): the attempt is given back everywhere. */
  release(reservation: ThrottleReservation): Promise<void>;
  /** Forgets every (account, address) failure of the account and its account-wide delay (the owner proved control of the mailbox). */
  forgive(account: string): Promise<void>;
  /** Deletes counters that no longer slow anything down at `now`; answers how many. */
  prune(now: Date): Promise<number>;
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
  revokeFamily(familyId: string, at: Date, reason: RevocationReason): Promise<void>;
  /** Revokes every family of the user not revoked yet; answers their ids. With `act`, records it in the audit trail in this transaction. */
  revokeFamiliesOf(userId: string, at: Date, reason: RevocationReason, act?: (revokedIds: readonly string[]) => AdminAct): Promise<string[]>;
}

/**
 * The revocations in force, kept in the database so a restart keeps them. Entries older than an
 * access token's lifetime are pruned.
 */
export interface TokenRevocationStore {
  add(revocation: TokenRevocation, reason: RevocationReason, at: Date): Promise<void>;
  /** Every entry not expired at `now`. */
  listActive(now: Date): Promise<TokenRevocation[]>;
  /** Deletes entries expired before `before`; answers how many. */
  pruneExpiredBefore(before: Date): Promise<number>;
}

/**
 * Where a new revocation is announced at once: this process's own list and, in the services shape,
 * the other processes' (through Redis). An announcement that fails is not lost: the store has the
 * entry, and every list re-reads its source within seconds.
 */
export interface RevocationAnnouncer {
  announce(revocation: TokenRevocation): Promise<void>;
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
    /** An operator's rotation: recorded in the audit trail with the kids before and after, when the key was replaced. */
    act?: { action: 'identity.signing-key-rotated' },
  ): Promise<boolean>;
  /**
   * Re-encrypts every stored key's private half under the current key-encryption key, in one
   * transaction; answers how many were under another (the previous) one, and how many there are.
   * Throws, changing nothing, when one cannot be decrypted with either key.
   */
  rewrapAll(): Promise<{ rewrapped: number; total: number }>;
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
  /** The session (refresh-token family) the token belongs to, as its `sid`; none for service clients. */
  sessionId: string | undefined;
  /** Whether the owner proved the email is theirs, as `email_verified`; only with an email. */
  emailVerified?: boolean | undefined;
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

/** Single-use tokens mailed to account owners; only their digests are stored. */
export interface AccountTokenStore {
  /** Stores `token` and deletes every other token of its user and purpose in one transaction, so only the newest works. */
  replace(token: AccountToken): Promise<void>;
  /** The user of the live token with this digest and purpose, without using it up; undefined when it is unknown, used or expired. */
  findLive(purpose: AccountTokenPurpose, tokenHash: string, now: Date): Promise<string | undefined>;
  /**
   * Uses up the live token with this digest and purpose and, in the same transaction, lets `effect`
   * change its account; answers the user id, or undefined (nothing written) when the token is
   * unknown, used, expired or for another purpose. Of two concurrent redemptions, one wins.
   */
  redeem(purpose: AccountTokenPurpose, tokenHash: string, now: Date, effect: (userId: string, account: AccountChanges) => Promise<void>): Promise<string | undefined>;
  /** Deletes tokens that expired before `before`; answers how many. */
  pruneExpiredBefore(before: Date): Promise<number>;
}

/** What redeeming a token may change about its account, inside the redeeming transaction. */
export interface AccountChanges {
  markEmailVerified(userId: string, at: Date): Promise<void>;
  savePasswordHash(userId: string, passwordHash: string): Promise<void>;
}

/** Account emails sent per account and kind, so nobody can flood an address through identity's routes. */
export interface AccountEmailBudget {
  /** Records a send of `kind` to `userId` at `now` and answers true, unless one was recorded after `since` (then false, nothing written). */
  take(userId: string, kind: AccountEmailKind, now: Date, since: Date): Promise<boolean>;
}

/**
 * Sends account emails. Identity sends them itself, never through messages or the notifications
 * module, because they carry sign-in secrets no other service may read.
 */
export interface AccountMailer {
  /** Queues `email` and returns at once: the caller's answer never waits for the mail server. A failed send is logged, without the email's content. */
  send(email: AccountEmail): void;
}
