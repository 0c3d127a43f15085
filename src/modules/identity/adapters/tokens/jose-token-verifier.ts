import { createHash } from 'node:crypto';
import {
  createLocalJWKSet, createRemoteJWKSet, decodeJwt, decodeProtectedHeader, errors, jwtVerify,
  type JWK, type JWTPayload, type JWTVerifyGetKey,
} from 'jose';
import { ExpiringCache } from '../../../../platform/cache/expiring-cache.ts';
import type { RevocationCheck } from './live-revocation-list.ts';
import {
  TokenRejectedError, type ExternalIssuer, type IdentityRole, type TokenVerifier, type VerifiedPrincipal,
} from '../../contract.ts';

/** Algorithms any accepted token may use; everything else (`none`, HS256, …) is refused before a key is looked at. */
export const allowedAlgorithms = ['ES256', 'RS256'] as const;

/** Longest time a verified token is taken on trust without checking its signature again. */
const verifiedTokenMaxAgeMs = 60_000;

const builtInRoles = new Set<string>(['customer', 'admin', 'service']);

export interface BuiltInIssuer {
  issuer: string;
  audience: string;
  /** The built-in JWKS, read in-process (the current key and retired keys still published). */
  loadKeys: () => Promise<readonly JWK[]>;
}

interface IssuerCheck {
  issuer: string;
  audience: string;
  algorithms: string[];
  keys: JWTVerifyGetKey;
  principal: (payload: JWTPayload & { sub: string }) => VerifiedPrincipal;
}

/**
 * Verifies bearer tokens with jose. The unverified `iss` only chooses which issuer's keys and rules
 * apply; the signature, `iss`, `aud`, `exp` and `nbf` (with the clock skew) are then all checked.
 * JWKS are cached and fetched again when a token names a key id not seen yet (a rotation), at most
 * once per cooldown.
 *
 * A token that passed is remembered (`cacheSize` tokens at most) until it expires or for a minute,
 * whichever is sooner, so a client's next requests with it cost a map lookup instead of a
 * signature check. The minute bounds how long a key dropped from an issuer's JWKS still opens doors.
 * Rejections are never remembered: a flood of forged tokens cannot fill the cache.
 */
export class JoseTokenVerifier implements TokenVerifier {
  readonly #issuers = new Map<string, IssuerCheck>();
  readonly #clockSkewSeconds: number;
  readonly #builtIn: BuiltInIssuer;
  readonly #cooldownMs: number;
  #builtInKeys: { loadedAt: number; keys: JWTVerifyGetKey } | undefined;
  readonly #verified: ExpiringCache<string, VerifiedPrincipal> | undefined;
  readonly #revocations: RevocationCheck | undefined;

  constructor(options: {
    builtIn: BuiltInIssuer;
    external: readonly ExternalIssuer[];
    clockSkewSeconds: number;
    /** Least time between two JWKS fetches of one issuer triggered by an unknown key id; 30 s by default. */
    jwksCooldownMs?: number;
    /** Longest wait for an external JWKS answer; 5 s by default. */
    jwksTimeoutMs?: number;
    /** Verified tokens remembered; 0 checks every token's signature every time. 10,000 by default. */
    cacheSize?: number;
    /** Revocations checked on every verification; none by default. */
    revocations?: RevocationCheck;
  }) {
    this.#revocations = options.revocations;
    const cacheSize = options.cacheSize ?? 10_000;
    this.#verified = cacheSize > 0 ? new ExpiringCache({ maxEntries: cacheSize }) : undefined;
    this.#clockSkewSeconds = options.clockSkewSeconds;
    this.#builtIn = options.builtIn;
    this.#cooldownMs = options.jwksCooldownMs ?? 30_000;
    this.#issuers.set(options.builtIn.issuer, {
      issuer: options.builtIn.issuer,
      audience: options.builtIn.audience,
      algorithms: ['ES256'],
      keys: (header, token) => this.#builtInKey(header, token),
      principal: builtInPrincipal,
    });
    for (const external of options.external) {
      if (this.#issuers.has(external.issuer)) throw new Error(`issuer ${external.issuer} is configured twice`);
      const remote = createRemoteJWKSet(new URL(external.jwksUrl), {
        cooldownDuration: this.#cooldownMs,
        cacheMaxAge: 10 * 60_000,
        timeoutDuration: options.jwksTimeoutMs ?? 5000,
      });
      this.#issuers.set(external.issuer, {
        issuer: external.issuer,
        audience: external.audience,
        algorithms: [...allowedAlgorithms],
        keys: async (header, token) => {
          try {
            return await remote(header, token);
          } catch (error) {
            if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) throw error;
            throw new TokenRejectedError('issuer-unavailable', `The keys of issuer ${external.issuer} could not be fetched`);
          }
        },
        principal: (payload) => externalPrincipal(external, payload),
      });
    }
  }

  async verify(token: string): Promise<VerifiedPrincipal> {
    const remembered = this.#verified?.get(token);
    if (remembered !== undefined) return this.#unlessRevoked(remembered);
    const { algorithm, issuer } = peek(token);
    if (!(allowedAlgorithms as readonly string[]).includes(algorithm)) {
      throw new TokenRejectedError('algorithm-not-allowed', `Tokens signed with ${algorithm} are not accepted`);
    }
    const check = issuer === undefined ? undefined : this.#issuers.get(issuer);
    if (check === undefined) throw new TokenRejectedError('unknown-issuer', 'The token was not issued by a trusted issuer');
    try {
      const { payload } = await jwtVerify(token, check.keys, {
        issuer: check.issuer,
        audience: check.audience,
        algorithms: check.algorithms,
        clockTolerance: this.#clockSkewSeconds,
        requiredClaims: ['sub', 'exp'],
      });
      if (typeof payload.sub !== 'string' || payload.sub === '') throw new TokenRejectedError('missing-claims', 'The token has no subject');
      const principal = Object.freeze(check.principal({ ...payload, sub: payload.sub }));
      // `exp` is required above; remembered until then at the latest, never within the clock skew after it.
      this.#verified?.set(token, principal, Math.min((payload.exp ?? 0) * 1000, Date.now() + verifiedTokenMaxAgeMs));
      return await this.#unlessRevoked(principal);
    } catch (error) {
      throw asRejection(error);
    }
  }

  /** The principal, unless a revocation made since its token was issued refuses it (checked on every call, remembered tokens included). */
  async #unlessRevoked(principal: VerifiedPrincipal): Promise<VerifiedPrincipal> {
    if (this.#revocations === undefined) return principal;
    const token = { subject: principal.id, sessionId: principal.sessionId, issuedAtMs: principal.issuedAt?.getTime() };
    if (await this.#revocations.revokes(token)) throw new TokenRejectedError('revoked', 'The token was revoked');
    return principal;
  }

  /** Forgets the cached built-in keys (and the tokens they verified), so a key made current in this process is seen at once. */
  forgetBuiltInKeys(): void {
    this.#builtInKeys = undefined;
    this.#verified?.clear();
  }

  async #builtInKey(...args: Parameters<JWTVerifyGetKey>): Promise<Awaited<ReturnType<JWTVerifyGetKey>>> {
    const cached = this.#builtInKeys;
    // Keys are only ever added (rotation) or left to expire, so a cache is refreshed only on an unknown kid, or after ten minutes.
    const keys = cached !== undefined && Date.now() - cached.loadedAt < 10 * 60_000 ? cached : await this.#loadBuiltInKeys();
    try {
      return await keys.keys(...args);
    } catch (error) {
      // Reading our own keys is one cheap query, so the built-in cooldown is at most a second.
      if (!(error instanceof errors.JWKSNoMatchingKey) || keys !== cached || Date.now() - keys.loadedAt < Math.min(this.#cooldownMs, 1000)) throw error;
      return (await this.#loadBuiltInKeys()).keys(...args);
    }
  }

  async #loadBuiltInKeys(): Promise<{ loadedAt: number; keys: JWTVerifyGetKey }> {
    const loaded = { loadedAt: Date.now(), keys: createLocalJWKSet({ keys: [...await this.#builtIn.loadKeys()] }) };
    this.#builtInKeys = loaded;
    return loaded;
  }
}

function peek(token: string): { algorithm: string; issuer: string | undefined } {
  try {
    const header = decodeProtectedHeader(token);
    const payload = decodeJwt(token);
    return { algorithm: header.alg ?? 'none', issuer: payload.iss };
  } catch {
    throw new TokenRejectedError('malformed', 'The token is not a well-formed signed JWT');
  }
}

function asRejection(error: unknown): TokenRejectedError {
  if (error instanceof TokenRejectedError) return error;
  if (error instanceof errors.JWTExpired) return new TokenRejectedError('expired', 'The token has expired');
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'nbf': return new TokenRejectedError('not-yet-valid', 'The token is not valid yet');
      case 'aud': return new TokenRejectedError('wrong-audience', 'The token is meant for another audience');
      case 'iss': return new TokenRejectedError('unknown-issuer', 'The token was not issued by a trusted issuer');
      default: return new TokenRejectedError('missing-claims', `The token's ${error.claim} claim is missing or not valid`);
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return new TokenRejectedError('algorithm-not-allowed', 'The token is signed with an algorithm that is not accepted');
  if (error instanceof errors.JWSSignatureVerificationFailed) return new TokenRejectedError('bad-signature', 'The token signature is not valid');
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
    return new TokenRejectedError('unknown-key', 'The token names a signing key the issuer does not publish');
  }
  if (error instanceof errors.JOSEError) return new TokenRejectedError('malformed', 'The token is not a well-formed signed JWT');
  throw error;
}

function builtInPrincipal(payload: JWTPayload & { sub: string }): VerifiedPrincipal {
  const claimed = Array.isArray(payload.roles) ? payload.roles.filter((role): role is string => typeof role === 'string') : [];
  const roles = claimed.filter((role) => builtInRoles.has(role)) as IdentityRole[];
  if (roles.length === 0) throw new TokenRejectedError('missing-claims', 'The token grants no role');
  return {
    id: payload.sub, email: typeof payload.email === 'string' ? payload.email : '', roles, issuer: payload.iss ?? '',
    sessionId: typeof payload.sid === 'string' ? payload.sid : undefined, issuedAt: issuedAtOf(payload),
    // A built-in token without the claim predates it: unverified until the next refresh says otherwise.
    emailVerified: payload.email_verified === true,
  };
}

function externalPrincipal(issuer: ExternalIssuer, payload: JWTPayload & { sub: string }): VerifiedPrincipal {
  const mapped = new Set<IdentityRole>();
  for (const name of externalRoleNames(claimAt(payload, issuer.rolesClaim))) {
    const role = Object.hasOwn(issuer.roleMapping, name) ? issuer.roleMapping[name] : undefined;
    if (role !== undefined) mapped.add(role);
  }
  return {
    id: externalUserId(issuer.issuer, payload.sub),
    email: typeof payload.email === 'string' ? payload.email : '',
    roles: mapped.size === 0 ? ['customer'] : [...mapped],
    issuer: issuer.issuer,
    sessionId: undefined,
    issuedAt: issuedAtOf(payload),
    // The external provider owns its addresses: only its explicit `false` counts as unverified.
    emailVerified: payload.email_verified !== false,
  };
}

function issuedAtOf(payload: JWTPayload): Date | undefined {
  return typeof payload.iat === 'number' && Number.isFinite(payload.iat) ? new Date(payload.iat * 1000) : undefined;
}

/** Longest subject an external token may carry (OpenID Connect Core 1.0, 2: at most 255 ASCII characters). */
const maxExternalSubjectLength = 255;

/**
 * The user id of an external subject: `ext:<issuer digest>:<subject>`, where the digest is the first
 * 22 characters of the base64url SHA-256 of the whole `iss` string. Two issuers on one host (realms,
 * tenants) differ in it, so their users never share an id; it is fixed-length, so a subject holding
 * `:` cannot shift the boundary; and no built-in id (a UUID) starts with `ext:`. PostgreSQL computes
 * the same digest as `translate(left(encode(sha256(convert_to(iss, 'UTF8')), 'base64'), 22), '+/', '-_')`.
 */
export function externalUserId(issuer: string, subject: string): string {
  // Ids are stored (orders.customer_id, jobs) and logged: a subject beyond the standard's bound or with control characters is refused, not stored.
  // eslint-disable-next-line no-control-regex -- control characters are what the check refuses
  if (subject.length > maxExternalSubjectLength || /[\u0000-\u001f\u007f]/.test(subject)) {
    throw new TokenRejectedError('missing-claims', 'The token\'s subject is too long or has control characters');
  }
  const digest = createHash('sha256').update(issuer, 'utf8').digest('base64url').slice(0, 22);
  return `ext:${digest}:${subject}`;
}

function claimAt(payload: JWTPayload, path: string): unknown {
  if (Object.hasOwn(payload, path)) return payload[path];
  let value: unknown = payload;
  for (const part of path.split('.')) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

function externalRoleNames(value: unknown): string[] {
  if (typeof value === 'string') return value.split(/[\s,]+/).filter((name) => name !== '');
  if (Array.isArray(value)) return value.filter((name): name is string => typeof name === 'string');
  return [];
}
