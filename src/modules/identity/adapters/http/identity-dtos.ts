import { z } from 'zod';
import { maxEmailLength } from '../../domain/email.ts';
import { maxPasswordLength } from '../../domain/password-policy.ts';
import type { User } from '../../domain/user.ts';

const email = z.string().min(1).max(maxEmailLength).describe('Compared trimmed and lower-case.');
const password = z.string().min(1).max(maxPasswordLength);
const opaqueToken = z.string().min(1).max(512);

export const registerRequest = z.strictObject({
  email,
  password: password.describe('At least 12 characters, not a well-known password.'),
}).meta({ id: 'RegisterRequest', examples: [{ email: 'ada@example.com', password: 'plum harbour violet forty-two' }] });

export const loginRequest = z.strictObject({ email, password }).meta({ id: 'LoginRequest', examples: [{ email: 'ada@example.com', password: 'plum harbour violet forty-two' }] });

export const accountEmailRequest = z.strictObject({ email }).meta({ id: 'AccountEmailRequest', examples: [{ email: 'ada@example.com' }] });

export const accountTokenRequest = z.strictObject({
  token: opaqueToken.describe('The token from the email (after `#token=` in its link).'),
}).meta({ id: 'AccountTokenRequest', examples: [{ token: 'kR3vX9mQ2pL7wZ4tB8nC1yF6' }] });

export const passwordResetCompletion = z.strictObject({
  token: opaqueToken.describe('The token from the password-reset email.'),
  newPassword: password.describe('At least 12 characters, not a well-known password.'),
}).meta({ id: 'PasswordResetCompletion', examples: [{ token: 'kR3vX9mQ2pL7wZ4tB8nC1yF6', newPassword: 'a new and longer passphrase' }] });

/** The one answer of requests that must not tell whether an email has an account. */
export const acceptedDto = z.object({ message: z.string() }).meta({ id: 'Accepted' });

export const refreshTokenRequest = z.strictObject({
  refreshToken: opaqueToken.optional().describe('Required unless the refresh-token cookie carries it (X-Refresh-Token-Mode: cookie).'),
}).meta({ id: 'RefreshTokenRequest', examples: [{ refreshToken: 'Qm9yZGVyc3RyZWFtLXJlZnJlc2g' }] });

export const userDto = z.object({
  id: z.string(),
  email: z.string(),
  roles: z.array(z.enum(['customer', 'admin', 'service'])),
  createdAt: z.iso.datetime(),
}).meta({ id: 'User' });

export const tokenPairDto = z.object({
  accessToken: z.string().describe('ES256 JWT; send as `Authorization: Bearer <accessToken>`.'),
  tokenType: z.literal('Bearer'),
  expiresIn: z.int().describe('Seconds until the access token expires.'),
  refreshToken: z.string().optional().describe('Opaque; usable once, at POST /v1/auth/refresh. Absent when it was set as the refresh-token cookie instead (X-Refresh-Token-Mode: cookie).'),
}).meta({ id: 'TokenPair' });

/** RFC 6749 client credentials grant; sent as a form or as JSON, so its field names are OAuth's. */
export const clientCredentialsRequest = z.strictObject({
  grant_type: z.literal('client_credentials', { error: 'must be client_credentials' }),
  client_id: z.string().min(1).max(128),
  client_secret: opaqueToken,
  scope: z.string().max(1000).optional().describe('Accepted and ignored: service tokens carry the service role.'),
}).meta({ id: 'ClientCredentialsRequest', examples: [{ grant_type: 'client_credentials', client_id: 'fulfilment-service', client_secret: 's3cr3t-issued-by-an-admin' }] });

/** RFC 6749 section 5.1 access token response. */
export const serviceTokenDto = z.object({
  access_token: z.string(),
  token_type: z.literal('Bearer'),
  expires_in: z.int(),
}).meta({ id: 'ServiceToken' });

export const jwksDto = z.object({
  keys: z.array(z.object({
    kty: z.string(), crv: z.string(), x: z.string(), y: z.string(), kid: z.string(), alg: z.literal('ES256'), use: z.literal('sig'),
  })),
}).meta({ id: 'JsonWebKeySet' });

export const openIdConfigurationDto = z.object({
  issuer: z.string(),
  jwks_uri: z.string(),
  token_endpoint: z.string(),
  grant_types_supported: z.array(z.string()),
  token_endpoint_auth_methods_supported: z.array(z.string()),
  response_types_supported: z.array(z.string()),
  subject_types_supported: z.array(z.string()),
  id_token_signing_alg_values_supported: z.array(z.string()),
  claims_supported: z.array(z.string()),
}).meta({ id: 'OpenIdConfiguration' });

export type UserDto = z.infer<typeof userDto>;

/** Domain → DTO: the password hash never leaves the module. */
export function toUserDto(user: User): UserDto {
  return { id: user.id, email: user.email, roles: [...user.roles], createdAt: user.createdAt.toISOString() };
}
