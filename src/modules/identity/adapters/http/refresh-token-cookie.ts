import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';

/**
 * The refresh token as a cookie, for browser pages (the operations console) that must not hold it
 * where script can read it. A request asks for it with `X-Refresh-Token-Mode: cookie`; the token is
 * then set as an httpOnly, SameSite=Strict session cookie that only the `/v1/auth/` paths receive
 * (refresh reads it, logout ends its session), and left out of the body. docs/security.md explains
 * why a cross-site page can do nothing with it.
 */
export const refreshCookieName = 'orderstream_refresh';
export const refreshCookiePath = '/v1/auth';
export const refreshModeHeader = 'x-refresh-token-mode';

/** The optional request header that switches a sign-in, refresh or logout to the cookie. */
export const refreshModeHeaders = z.object({
  [refreshModeHeader]: z.enum(['cookie']).optional()
    .describe('`cookie`: the refresh token travels as an httpOnly, SameSite=Strict cookie scoped to /v1/auth, never in a body (for browser pages).'),
});

const cookieValue = /^[A-Za-z0-9_-]{1,512}$/;

/** Whether the request asked for the cookie mode. */
export function wantsRefreshCookie(request: FastifyRequest): boolean {
  return request.headers[refreshModeHeader] === 'cookie';
}

/** The refresh token the request's cookie carries, if it carries a well-formed one. */
export function refreshTokenFromCookie(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const separator = part.indexOf('=');
    if (separator === -1 || part.slice(0, separator).trim() !== refreshCookieName) continue;
    const value = part.slice(separator + 1).trim();
    return cookieValue.test(value) ? value : undefined;
  }
  return undefined;
}

/** Over HTTPS (directly, or as the gateway or a proxy in front says), the cookie is sent back only over HTTPS. */
function cameOverHttps(request: FastifyRequest): boolean {
  const forwarded = request.headers['x-forwarded-proto'];
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim().toLowerCase();
  return request.protocol === 'https' || first === 'https';
}

function cookieAttributes(request: FastifyRequest): string {
  return `Path=${refreshCookiePath}; HttpOnly; SameSite=Strict${cameOverHttps(request) ? '; Secure' : ''}`;
}

/** Sets the refresh token as the cookie (a session cookie: it ends with the browser, the token may end sooner). */
export function setRefreshCookie(request: FastifyRequest, reply: FastifyReply, refreshToken: string): void {
  void reply.header('set-cookie', `${refreshCookieName}=${refreshToken}; ${cookieAttributes(request)}`);
}

/** Removes the cookie from the browser. */
export function clearRefreshCookie(request: FastifyRequest, reply: FastifyReply): void {
  void reply.header('set-cookie', `${refreshCookieName}=; Max-Age=0; ${cookieAttributes(request)}`);
}
