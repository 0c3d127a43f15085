import type { Client, Middleware } from 'openapi-fetch';
import { unwrap } from './errors.ts';
import type { components, paths } from './openapi-types.ts';

export type TokenPair = components['schemas']['TokenPair'];

export interface SessionOptions {
  /** How long before the access token expires it is refreshed. Default 30 s (at most half its lifetime). */
  refreshMarginMs?: number;
  /** Replaced in tests. */
  now?: () => number;
}

interface HeldTokens {
  accessToken: string;
  refreshToken: string;
  /** When the access token stops working, on this machine's clock. */
  expiresAt: number;
  lifetimeMs: number;
}

/** The `exp` claim of a JWT in milliseconds, or undefined when the token cannot be read. */
export function tokenExpiry(accessToken: string): number | undefined {
  const payload = accessToken.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    const json = atob(payload.replaceAll('-', '+').replaceAll('_', '/'));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A signed-in user's tokens. Every call of the client asks it for the access token, and it refreshes
 * the pair shortly before the access token expires, once for all the calls waiting (a refresh token
 * is usable once, so two refreshes at a time would end the session).
 */
export class Session {
  readonly #auth: Client<paths>;
  readonly #marginMs: number;
  readonly #now: () => number;
  #tokens: HeldTokens | undefined;
  #refreshing: Promise<HeldTokens> | undefined;

  /** `auth` is a client without this session's middleware: sign-in and refresh carry no bearer token. */
  constructor(auth: Client<paths>, options: SessionOptions = {}) {
    this.#auth = auth;
    this.#marginMs = options.refreshMarginMs ?? 30_000;
    this.#now = options.now ?? Date.now;
  }

  get signedIn(): boolean {
    return this.#tokens !== undefined;
  }

  /** Signs in with email and password; later calls carry the user's token. */
  async signIn(email: string, password: string): Promise<void> {
    this.#hold(await unwrap(this.#auth.POST('/v1/auth/login', { body: { email, password } })));
  }

  /** Takes a pair obtained elsewhere (a sign-in link, a password change). */
  useTokens(pair: Pick<TokenPair, 'accessToken' | 'expiresIn' | 'refreshToken'>): void {
    this.#hold(pair);
  }

  /** Ends the session on the server too; later calls go without a token. */
  async signOut(): Promise<void> {
    const tokens = this.#tokens;
    this.#tokens = undefined;
    if (tokens !== undefined) await unwrap(this.#auth.POST('/v1/auth/logout', { body: { refreshToken: tokens.refreshToken } }));
  }

  /** The access token to send now, refreshed first when it is about to expire; undefined when signed out. */
  async accessToken(): Promise<string | undefined> {
    const tokens = this.#tokens;
    if (tokens === undefined) return undefined;
    const margin = Math.min(this.#marginMs, tokens.lifetimeMs / 2);
    if (this.#now() < tokens.expiresAt - margin) return tokens.accessToken;
    return (await this.#refresh(tokens)).accessToken;
  }

  /** Sets `Authorization` on every request of the client it is added to. */
  readonly middleware: Middleware = {
    onRequest: async ({ request }) => {
      const token = await this.accessToken();
      if (token !== undefined && !request.headers.has('authorization')) request.headers.set('authorization', `Bearer ${token}`);
      return request;
    },
  };

  #refresh(tokens: HeldTokens): Promise<HeldTokens> {
    this.#refreshing ??= (async () => {
      try {
        return this.#hold(await unwrap(this.#auth.POST('/v1/auth/refresh', { body: { refreshToken: tokens.refreshToken } })));
      } catch (error) {
        // A refused refresh token (revoked, used, expired) ends the session; a network failure does not.
        if (typeof error === 'object' && error !== null && 'status' in error && error.status === 401) this.#tokens = undefined;
        throw error;
      } finally {
        this.#refreshing = undefined;
      }
    })();
    return this.#refreshing;
  }

  #hold(pair: Pick<TokenPair, 'accessToken' | 'expiresIn' | 'refreshToken'>): HeldTokens {
    // expiresIn is counted from now on this machine's clock, so a skewed clock does not matter; the
    // token's exp (the server's clock) is the fallback when expiresIn is missing.
    const now = this.#now();
    const expiresAt = Number.isFinite(pair.expiresIn) && pair.expiresIn > 0
      ? now + pair.expiresIn * 1000
      : tokenExpiry(pair.accessToken) ?? now;
    // This client never asks for the refresh-token cookie, so the body always carries the token.
    if (pair.refreshToken === undefined) throw new Error('The sign-in answer carries no refresh token.');
    this.#tokens = { accessToken: pair.accessToken, refreshToken: pair.refreshToken, expiresAt, lifetimeMs: Math.max(0, expiresAt - now) };
    return this.#tokens;
  }
}
