import type { User } from '../domain/user.ts';
import type { IssueAccessToken } from './issue-access-token.ts';
import type { SecretTokens, SessionTransaction } from './ports.ts';

/** What a sign-in or refresh answers: a short-lived access token and the refresh token to get the next one. */
export interface TokenPair {
  accessToken: string;
  expiresIn: number;
  refreshToken: string;
}

/**
 * Issues a token pair for a user inside a session transaction: a new refresh token (in `familyId`,
 * or in a new family for a fresh sign-in) and an access token. Shared by LogIn and RefreshSession.
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

  async execute(sessions: SessionTransaction, user: User, now: Date, familyId?: string): Promise<TokenPair> {
    let family = familyId;
    if (family === undefined) {
      family = `rtf_${crypto.randomUUID()}`;
      await sessions.addFamily({ id: family, userId: user.id, createdAt: now, revokedAt: undefined });
    }
    const refreshToken = this.#secrets.generate();
    await sessions.addToken({
      tokenHash: this.#secrets.digest(refreshToken),
      familyId: family,
      issuedAt: now,
      expiresAt: new Date(now.getTime() + this.#refreshTokenTtlDays * 24 * 60 * 60 * 1000),
      usedAt: undefined,
    });
    const access = await this.#issueAccessToken.execute({ id: user.id, email: user.email, roles: user.roles });
    return { ...access, refreshToken };
  }
}
