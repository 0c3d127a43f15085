import type { RefreshRefusal } from './identity.errors.ts';

/**
 * A chain of refresh tokens descended from one sign-in. Revoking the family ends every token in it,
 * which is how logout and theft detection work.
 */
export interface RefreshTokenFamily {
  readonly id: string;
  readonly userId: string;
  readonly createdAt: Date;
  readonly revokedAt: Date | undefined;
}

/** One refresh token, known only by the hash of its value. Usable once. */
export interface RefreshToken {
  readonly tokenHash: string;
  readonly familyId: string;
  readonly issuedAt: Date;
  readonly expiresAt: Date;
  readonly usedAt: Date | undefined;
}

/**
 * What presenting a refresh token leads to. A token that was already used means two parties hold
 * it (one of them may be a thief), so the whole family is revoked rather than just refused.
 */
export type RefreshDecision =
  | { outcome: 'rotate' }
  | { outcome: 'refuse'; refusal: RefreshRefusal; revokeFamily: boolean };

export function decideRefresh(token: RefreshToken | undefined, family: RefreshTokenFamily | undefined, now: Date): RefreshDecision {
  if (token === undefined || family === undefined) return { outcome: 'refuse', refusal: 'unknown', revokeFamily: false };
  if (family.revokedAt !== undefined) return { outcome: 'refuse', refusal: 'revoked', revokeFamily: false };
  if (token.usedAt !== undefined) return { outcome: 'refuse', refusal: 'reused', revokeFamily: true };
  if (token.expiresAt.getTime() <= now.getTime()) return { outcome: 'refuse', refusal: 'expired', revokeFamily: false };
  return { outcome: 'rotate' };
}
