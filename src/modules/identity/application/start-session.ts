import type { User } from '../domain/user.ts';
import type { IssueAccessToken } from './issue-access-token.ts';
import type { SecretTokens, SessionTransaction } from './ports.ts';

/** What a sign-in or refresh answers: a short-lived access token and the refresh token to get the next one. */
export interface TokenPair {
  accessToken: string;
  expiresIn: number;
  refreshToken: string;
}

/** A refresh token just stored (only its digest is), and the session (family) it belongs to. */
export interface NewRefreshToken {
  value: string;
  familyId: string;
}

/**
 * Issues a token pair in two steps, shared by LogIn and RefreshSession: a new refresh token (in
 * `familyId`, or in a new family for a fresh sign-in) inside the caller's session transaction, then,
 * once that has committed, the access token. Signing needs no database, and nothing that needs a
 * connection of its own runs while the session transaction holds one.
 */
export class StartSession {
  readonly #secrets: SecretTokens;
  readonly #issueAccessToken: IssueAccessToken;
  readonly #refreshTokenTtlDays: number;

  constructor(deps: { secrets: SecretTokens; issueAccessToken: IssueAccessToken; refreshTokenTtlDays: number }) {
    this.#secrets = deps.secrets;
    this.#issueAccessToken = deps.issueAccessToken;
    this.#refreshTokenTtlDays = deps.refreshTokenTtlDays;
  }

  /** Stores a new refresh token for `userId` in the session transaction; answers the token (only its digest is stored) and its family. */
  async addRefreshToken(sessions: SessionTransaction, userId: string, now: Date, familyId?: string): Promise<NewRefreshToken> {
    let family = familyId;
    if (family === undefined) {
      family = `rtf_${crypto.randomUUID()}`;
      await sessions.addFamily({ id: family, userId, createdAt: now, revokedAt: undefined });
    }
    const refreshToken = this.#secrets.generate();
    await sessions.addToken({
      tokenHash: this.#secrets.digest(refreshToken),
      familyId: family,
      issuedAt: now,
      expiresAt: new Date(now.getTime() + this.#refreshTokenTtlDays * 24 * 60 * 60 * 1000),
      usedAt: undefined,
    });
    return { value: refreshToken, familyId: family };
  }

  /** After the refresh token committed: the pair with a fresh access token for `user`, carrying the session as its `sid`. */
  async complete(user: User, refresh: NewRefreshToken): Promise<TokenPair> {
    const access = await this.#issueAccessToken.execute({
      id: user.id, email: user.email, roles: user.roles, sessionId: refresh.familyId, emailVerified: user.emailVerifiedAt !== undefined,
    });
    return { ...access, refreshToken: refresh.value };
  }
}
