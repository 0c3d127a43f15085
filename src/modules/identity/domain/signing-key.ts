/** The public half of an ES256 key as published in the JWKS. */
export interface PublicJwk {
  readonly kty: string;
  readonly crv: string;
  readonly x: string;
  readonly y: string;
  readonly kid: string;
  readonly alg: 'ES256';
  readonly use: 'sig';
}

/**
 * A key access tokens are signed with. Exactly one is current (not retired); a retired key stays
 * published until `publishedUntil`, when every token it signed has expired.
 */
export interface SigningKey {
  readonly kid: string;
  readonly publicJwk: PublicJwk;
  /** The private JWK; only ever stored encrypted. */
  readonly privateJwk: Readonly<Record<string, string>>;
  readonly createdAt: Date;
  readonly retiredAt: Date | undefined;
  readonly publishedUntil: Date | undefined;
}

/** A freshly generated key pair, before it is current. */
export type NewSigningKey = Pick<SigningKey, 'kid' | 'publicJwk' | 'privateJwk'>;

/** True when there is no current key or it is older than the rotation period. */
export function isRotationDue(current: SigningKey | undefined, rotationDays: number, now: Date): boolean {
  if (current === undefined) return true;
  return now.getTime() - current.createdAt.getTime() >= rotationDays * 24 * 60 * 60 * 1000;
}

/**
 * How long a key retired at `retiredAt` must stay in the JWKS: the longest-lived token it signed
 * (issued just before retirement) plus the verifiers' clock skew.
 */
export function publishedUntil(retiredAt: Date, accessTokenTtlSeconds: number, clockSkewSeconds: number): Date {
  return new Date(retiredAt.getTime() + (accessTokenTtlSeconds + clockSkewSeconds) * 1000);
}

/** Whether a key belongs in the JWKS at `now`. */
export function isPublished(key: Pick<SigningKey, 'retiredAt' | 'publishedUntil'>, now: Date): boolean {
  return key.retiredAt === undefined || (key.publishedUntil !== undefined && key.publishedUntil.getTime() > now.getTime());
}
