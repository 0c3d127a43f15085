import type { AccountChanges, AccountEmailBudget, AccountMailer, AccountTokenStore } from '../application/ports.ts';
import type { AccountEmail, AccountEmailKind } from '../domain/account-email.ts';
import type { AccountToken, AccountTokenPurpose } from '../domain/account-token.ts';
import { pruneExpired, type InMemoryUserRepository } from './in-memory-identity.ts';

/** Mailed account tokens in memory; redeeming changes the accounts of an InMemoryUserRepository. */
export class InMemoryAccountTokenStore implements AccountTokenStore {
  readonly tokens = new Map<string, AccountToken & { usedAt?: Date }>();
  readonly #users: InMemoryUserRepository;

  constructor(users: InMemoryUserRepository) {
    this.#users = users;
  }

  replace(token: AccountToken): Promise<void> {
    for (const [hash, stored] of this.tokens) {
      if (stored.userId === token.userId && stored.purpose === token.purpose) this.tokens.delete(hash);
    }
    this.tokens.set(token.tokenHash, token);
    return Promise.resolve();
  }

  findLive(purpose: AccountTokenPurpose, tokenHash: string, now: Date): Promise<string | undefined> {
    const token = this.tokens.get(tokenHash);
    if (token?.purpose !== purpose || token.usedAt !== undefined || token.expiresAt.getTime() <= now.getTime()) return Promise.resolve(undefined);
    return Promise.resolve(token.userId);
  }

  async redeem(purpose: AccountTokenPurpose, tokenHash: string, now: Date, effect: (userId: string, account: AccountChanges) => Promise<void>): Promise<string | undefined> {
    const userId = await this.findLive(purpose, tokenHash, now);
    const token = this.tokens.get(tokenHash);
    if (userId === undefined || token === undefined) return undefined;
    this.tokens.set(tokenHash, { ...token, usedAt: now });
    await effect(userId, {
      markEmailVerified: (id, at) => this.#users.saveEmailVerified(id, at),
      savePasswordHash: (id, hash) => this.#users.savePasswordHash(id, hash),
    });
    return userId;
  }

  pruneExpiredBefore(before: Date): Promise<number> {
    return Promise.resolve(pruneExpired(this.tokens, before));
  }
}

/** The account email budget in memory. */
export class InMemoryAccountEmailBudget implements AccountEmailBudget {
  readonly lastSent = new Map<string, Date>();

  take(userId: string, kind: AccountEmailKind, now: Date, since: Date): Promise<boolean> {
    const key = `${userId} ${kind}`;
    const last = this.lastSent.get(key);
    if (last !== undefined && last.getTime() > since.getTime()) return Promise.resolve(false);
    this.lastSent.set(key, now);
    return Promise.resolve(true);
  }
}

/** Keeps the account emails it is asked to send. */
export class RecordingAccountMailer implements AccountMailer {
  readonly sent: AccountEmail[] = [];

  send(email: AccountEmail): void {
    this.sent.push(email);
  }

  /** The token of the last email of `kind` to `to`. */
  lastToken(to: string, kind: AccountTokenPurpose): string {
    const email = this.sent.findLast((sent) => sent.to === to && sent.kind === kind);
    if (email === undefined || !('token' in email)) throw new Error(`no ${kind} email to ${to}`);
    return email.token;
  }
}
