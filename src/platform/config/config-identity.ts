import { z } from 'zod';

const externalIssuersSchema = z.array(z.strictObject({
  issuer: z.url(),
  jwksUrl: z.url(),
  audience: z.string().min(1),
  rolesClaim: z.string().min(1),
  roleMapping: z.record(z.string(), z.enum(['customer', 'admin'])),
}));

/** Tokens, signing keys, sign-in throttling, password hashing and account emails. */
export const identityVariables = {
  DEV_IDENTITY_HEADERS: z.enum(['true', 'false']).default('false').transform((value) => value === 'true')
    .describe('Also accept the development identity headers (`x-dev-customer-id`, `x-dev-customer-email`, `x-dev-roles`) instead of a token. Never in production.'),
  IDENTITY_ISSUER: z.url().default('http://127.0.0.1:8080')
    .describe('`iss` of the access tokens OrderStream issues, and the base of its discovery document.'),
  IDENTITY_AUDIENCE: z.string().min(1).default('orderstream-api')
    .describe('`aud` of the access tokens; tokens for another audience are refused.'),
  IDENTITY_KEY_ENCRYPTION_KEY: z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'must be 32 bytes in base64 (openssl rand -base64 32)').optional()
    .describe('Encrypts the signing keys stored in the database. Unset: a key is generated once and kept in `.data/identity-key-encryption-key` (development only).'),
  IDENTITY_KEY_ENCRYPTION_KEY_PREVIOUS: z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'must be 32 bytes in base64 (openssl rand -base64 32)').optional()
    .describe('While IDENTITY_KEY_ENCRYPTION_KEY is rotated: the key it replaces, still used to read signing keys stored under it until `orderstream keys rewrap` has re-encrypted them (docs/security.md, Rotating secrets). New keys are always encrypted under IDENTITY_KEY_ENCRYPTION_KEY.'),
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(30).max(86_400).default(900)
    .describe('Lifetime of an access token.'),
  ACCESS_TOKEN_CACHE_SIZE: z.coerce.number().int().min(0).max(1_000_000).default(10_000)
    .describe('Verified access tokens remembered by the edge (each for at most a minute, never past its expiry), so a repeat request skips the signature check; 0 checks every time.'),
  REFRESH_TOKEN_TTL_DAYS: z.coerce.number().int().min(1).max(365).default(30)
    .describe('Lifetime of a refresh token (each use rotates it).'),
  SIGNING_KEY_ROTATION_DAYS: z.coerce.number().int().min(1).max(365).default(30)
    .describe('A new signing key is made this often; the previous one stays published until its tokens expire.'),
  JWT_CLOCK_SKEW_SECONDS: z.coerce.number().int().min(0).max(300).default(30)
    .describe('Leeway for `exp` and `nbf` when verifying tokens.'),
  LOGIN_FAILURES_BEFORE_DELAY: z.coerce.number().int().min(1).max(1000).default(5)
    .describe('Failed sign-ins of one account from one client address before each further attempt from there waits (1 s, doubling); other addresses are not slowed.'),
  LOGIN_MAX_DELAY_SECONDS: z.coerce.number().int().min(1).max(86_400).default(900)
    .describe('Longest wait of one account from one address.'),
  LOGIN_ADDRESS_BUDGET: z.coerce.number().int().min(1).max(1_000_000).default(100)
    .describe('Failed sign-ins one client address may have across all accounts (password spraying) before its attempts get 429; refills evenly over `LOGIN_ADDRESS_WINDOW_SECONDS`.'),
  LOGIN_ADDRESS_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86_400).default(3600)
    .describe('Time in which an address\'s spent budget refills completely.'),
  LOGIN_ACCOUNT_FAILURES_BEFORE_DELAY: z.coerce.number().int().min(1).max(1_000_000).default(20)
    .describe('Failures of one account across addresses (each address\'s first `LOGIN_FAILURES_BEFORE_DELAY` only) before every attempt for it waits: guessing spread over many addresses.'),
  LOGIN_ACCOUNT_MAX_DELAY_SECONDS: z.coerce.number().int().min(1).max(3600).default(60)
    .describe('Longest account-wide wait; kept short because the owner waits it too.'),
  LOGIN_FORGET_AFTER_SECONDS: z.coerce.number().int().min(60).max(30 * 86_400).default(86_400)
    .describe('Sign-in failures with no attempt after them for this long are forgotten.'),
  PASSWORD_HASHING_CONCURRENCY: z.coerce.number().int().min(1).max(64).optional()
    .describe('Password hashes (argon2id, at sign-in and registration) computed at once in this process; more wait or are refused instead of piling up. Unset: the number of CPU cores (one less keeps a core for everything else).'),
  PASSWORD_HASHING_QUEUE: z.coerce.number().int().min(0).max(10_000).default(64)
    .describe('Password hashes allowed to wait for a free hasher; one more is refused at once with 503 and Retry-After.'),
  PASSWORD_HASHING_MAX_WAIT_MS: z.coerce.number().int().min(10).max(60_000).default(2000)
    .describe('Longest a password hash waits for a free hasher before its request is refused with 503 and Retry-After.'),
  REQUIRE_EMAIL_VERIFICATION: z.enum(['true', 'false']).default('false').transform((value) => value === 'true')
    .describe('`POST /v1/orders` is refused (403 `email-not-verified`) for a caller whose access token says the email is not verified; the customer verifies with the emailed link (or a sign-in link), then refreshes the token.'),
  ACCOUNT_LINK_BASE_URL: z.url({ protocol: /^https?$/ }).optional()
    .describe('Base URL of the shop\'s pages that finish account emails: links are `<base>/verify-email#token=…`, `<base>/reset-password#token=…`, `<base>/sign-in#token=…` (the page posts the token to the API). Unset: the emails give the token and the API route to send it to.'),
  ACCOUNT_EMAIL_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60)
    .describe('Least time between two account emails of one kind (verification, password reset, sign-in link, registration notice) to one account; a request within it is answered alike and sends nothing.'),
  EXTERNAL_OIDC_ISSUERS: z.string().default('[]').transform((text, context) => {
    try {
      return externalIssuersSchema.parse(JSON.parse(text));
    } catch {
      context.addIssue({ code: 'custom', message: 'must be a JSON array of { issuer, jwksUrl, audience, rolesClaim, roleMapping }' });
      return z.NEVER;
    }
  }).describe('External OpenID issuers to trust besides the built-in one (JSON array of { issuer, jwksUrl, audience, rolesClaim, roleMapping }).'),
  AUTH_RATE_LIMIT_BURST: z.coerce.number().int().min(1).max(1_000_000).default(20)
    .describe('Sign-in, registration and token requests one client IP may make at once (a tighter bucket of its own).'),
  AUTH_RATE_LIMIT_PER_SECOND: z.coerce.number().min(0.01).max(1_000_000).default(0.2)
    .describe('Sustained sign-in, registration and token requests per second allowed per client IP.'),
};
