/**
 * The API as the console calls it: same origin, through the same edge and route policies as any
 * client. The access token lives in this module's memory only; the refresh token is an httpOnly
 * cookie the page cannot read (X-Refresh-Token-Mode: cookie), so a reload signs in again by refreshing.
 */

export interface Claims {
  subject: string;
  email: string;
  roles: readonly string[];
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

/** A problem+json answer (or a network failure, status 0), told to the user by its title and detail. */
export class ApiError extends Error {
  readonly status: number;
  readonly title: string;
  constructor(status: number, title: string, detail: string | undefined) {
    super(detail ?? title);
    this.name = 'ApiError';
    this.status = status;
    this.title = title;
  }
}

/** The signed-in account is not an admin: the console is not for it. */
export class NotAdminError extends Error {
  constructor(email: string) {
    super(`${email} is not an administrator. The console is for the people who run OrderStream; sign in with an admin account.`);
    this.name = 'NotAdminError';
  }
}

const cookieMode = { 'x-refresh-token-mode': 'cookie' };
/**
 * Whether this browser signed in to the console and has not signed out: a flag, never a token, so
 * that a first visit shows the sign-in page without asking for a refresh that can only be refused.
 */
const sessionHint = 'orderstream-console:signed-in';
let accessToken: string | undefined;
let claims: Claims | undefined;
let refreshing: Promise<Claims | undefined> | undefined;
const listeners = new Set<(signedIn: Claims | undefined) => void>();

/** Calls `listener` whenever the session starts or ends. */
export function onSessionChange(listener: (signedIn: Claims | undefined) => void): () => void {
  listeners.add(listener);
  return () => { listeners.delete(listener); };
}

function decodeClaims(token: string): Claims {
  const payload = token.split('.')[1] ?? '';
  const json = JSON.parse(atob(payload.replaceAll('-', '+').replaceAll('_', '/'))) as { sub?: string; email?: string; roles?: string[]; exp?: number };
  return { subject: json.sub ?? '', email: json.email ?? '', roles: json.roles ?? [], expiresAt: (json.exp ?? 0) * 1000 };
}

function hold(token: string | undefined): Claims | undefined {
  accessToken = token;
  claims = token === undefined ? undefined : decodeClaims(token);
  for (const listener of listeners) listener(claims);
  return claims;
}

async function problemOf(response: Response): Promise<ApiError> {
  const body = await response.json().catch(() => undefined) as { title?: string; detail?: string } | undefined;
  return new ApiError(response.status, body?.title ?? response.statusText, body?.detail);
}

async function send(path: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(path, { credentials: 'same-origin', ...init });
  } catch {
    throw new ApiError(0, 'OrderStream cannot be reached', 'Check the connection and try again.');
  }
}

/** Signs in; an account without the admin role is refused here and its session ended at once. */
export async function signIn(email: string, password: string): Promise<Claims> {
  const response = await send('/v1/auth/login', {
    method: 'POST', headers: { 'content-type': 'application/json', ...cookieMode }, body: JSON.stringify({ email, password }),
  });
  if (!response.ok) throw await problemOf(response);
  const token = (await response.json() as { accessToken: string }).accessToken;
  const signedIn = decodeClaims(token);
  if (!signedIn.roles.includes('admin')) {
    await signOut();
    throw new NotAdminError(signedIn.email);
  }
  hold(token);
  localStorage.setItem(sessionHint, '1');
  return signedIn;
}

/** A new access token from the refresh cookie, once for every caller waiting; undefined when there is no session. */
export function resume(): Promise<Claims | undefined> {
  if (localStorage.getItem(sessionHint) === null) return Promise.resolve(hold(undefined));
  refreshing ??= (async () => {
    try {
      const response = await send('/v1/auth/refresh', { method: 'POST', headers: { 'content-type': 'application/json', ...cookieMode }, body: '{}' });
      if (response.status === 401) {
        localStorage.removeItem(sessionHint);
        return hold(undefined);
      }
      if (!response.ok) throw await problemOf(response);
      const token = (await response.json() as { accessToken: string }).accessToken;
      return decodeClaims(token).roles.includes('admin') ? hold(token) : hold(undefined);
    } finally {
      refreshing = undefined;
    }
  })();
  return refreshing;
}

/** Ends the session on the server and clears the cookie. */
export async function signOut(): Promise<void> {
  localStorage.removeItem(sessionHint);
  hold(undefined);
  await send('/v1/auth/logout', { method: 'POST', headers: { 'content-type': 'application/json', ...cookieMode }, body: '{}' });
}

async function currentToken(): Promise<string | undefined> {
  if (claims !== undefined && Date.now() < claims.expiresAt - 30_000) return accessToken;
  return (await resume()) === undefined ? undefined : accessToken;
}

/** A call with the access token; a 401 refreshes once and tries again. The caller reads the response. */
export async function authorized(path: string, init: RequestInit = {}): Promise<Response> {
  const call = async (token: string | undefined) => {
    const headers = new Headers(init.headers);
    if (token !== undefined) headers.set('authorization', `Bearer ${token}`);
    return send(path, { ...init, headers });
  };
  const first = await call(await currentToken());
  if (first.status !== 401) return first;
  return call((await resume()) === undefined ? undefined : accessToken);
}

/** A JSON call: the parsed body, or the problem as an ApiError. */
export async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const response = await authorized(path, init);
  if (!response.ok) throw await problemOf(response);
  return await response.json() as T;
}

/** A JSON POST without a body of its own. */
export function post<T>(path: string): Promise<T> {
  return api<T>(path, { method: 'POST' });
}

export { problemOf };
