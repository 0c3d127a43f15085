/** What the identity module promises others: its integration event, its roles and its token verifier. */

/** The roles a principal can hold. `service` is given only to service clients (client credentials). */
export type IdentityRole = 'customer' | 'admin' | 'service';

/** `identity.user-registered` v1: an account was created. Keyed by user id. */
export interface UserRegisteredV1 {
  userId: string;
  email: string;
  roles: IdentityRole[];
  registeredAt: string;
}

export const identityEvents = {
  userRegistered: { type: 'identity.user-registered', version: 1 },
} as const;

/**
 * Who presented a verified access token. `email` is the token's `email` claim, or '' when it has
 * none (service clients, external tokens without one).
 */
export interface VerifiedPrincipal {
  id: string;
  email: string;
  roles: readonly IdentityRole[];
  /** The `iss` of the token: the built-in issuer or a configured external one. */
  issuer: string;
  /** The session (refresh-token family) of a built-in token, its `sid` claim; undefined for service and external tokens. */
  sessionId?: string | undefined;
  /** When the token was issued (its `iat`), if it says. */
  issuedAt?: Date | undefined;
  /** Whether the email is known to be the holder's (`email_verified`); undefined when the token does not say. */
  emailVerified?: boolean | undefined;
}

/** Why a token was refused; stable values the gateway may map to problems. */
export type TokenRejectionReason =
  | 'malformed'
  | 'algorithm-not-allowed'
  | 'unknown-issuer'
  | 'unknown-key'
  | 'bad-signature'
  | 'expired'
  | 'not-yet-valid'
  | 'wrong-audience'
  | 'missing-claims'
  | 'issuer-unavailable'
  | 'revoked';

/** A bearer token was not accepted; `reason` says why. Its message never contains the token. */
export class TokenRejectedError extends Error {
  readonly reason: TokenRejectionReason;
  constructor(reason: TokenRejectionReason, detail: string) {
    super(detail);
    this.name = 'TokenRejectedError';
    this.reason = reason;
  }
}

/** Checks bearer tokens from the built-in issuer and any trusted external OpenID issuer. */
export interface TokenVerifier {
  /** The token's principal; rejects with TokenRejectedError when the token is not acceptable. */
  verify(token: string): Promise<VerifiedPrincipal>;
}

/** A trusted external OpenID issuer (Cognito, Keycloak, Auth0…). */
export interface ExternalIssuer {
  /** Exact `iss` value of its tokens. */
  issuer: string;
  jwksUrl: string;
  /** The `aud` its tokens must carry for OrderStream. */
  audience: string;
  /** Claim holding the user's external roles or groups; a dotted path such as `realm_access.roles` reaches inside objects. */
  rolesClaim: string;
  /** External role name → OrderStream role; unmapped names are ignored, and no mapped role means `customer`. */
  roleMapping: Readonly<Record<string, 'customer' | 'admin'>>;
}

/** Credentials a seeded or created account signs in with. */
export interface Credentials {
  email: string;
  password: string;
}

/** A new service client; the secret is shown this once and stored only as a hash. */
export interface ServiceClientCredentials {
  clientId: string;
  clientSecret: string;
  name: string;
}
