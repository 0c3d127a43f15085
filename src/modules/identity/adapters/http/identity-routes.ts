import { z } from 'zod';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HttpApp } from '../../../../platform/http/app.ts';
import { HttpProblem, invalidRequest, problemSchema } from '../../../../platform/http/problem.ts';
import { clientAddressOf } from '../../../../platform/http/principal.ts';
import type { IssueServiceToken } from '../../application/issue-service-token.ts';
import type { ListPublishedKeys } from '../../application/list-published-keys.ts';
import type { LogIn } from '../../application/log-in.ts';
import type { LogOut } from '../../application/log-out.ts';
import type { RefreshSession } from '../../application/refresh-session.ts';
import type { CompletePasswordReset } from '../../application/complete-password-reset.ts';
import type { RequestAccountLink } from '../../application/request-account-link.ts';
import type { SignInWithLink } from '../../application/sign-in-with-link.ts';
import type { SignUp } from '../../application/sign-up.ts';
import type { VerifyEmail } from '../../application/verify-email.ts';
import type { TokenPair } from '../../application/start-session.ts';
import {
  AccountDisabledError, AccountTokenRefusedError, InvalidClientError, InvalidCredentialsError, InvalidRegistrationError, LoginThrottledError, RefreshTokenRefusedError,
} from '../../domain/identity.errors.ts';
import {
  acceptedDto, accountEmailRequest, accountTokenRequest, clientCredentialsRequest, jwksDto, loginRequest, openIdConfigurationDto,
  passwordResetCompletion, refreshTokenRequest, registerRequest, serviceTokenDto, tokenPairDto,
} from './identity-dtos.ts';
import {
  clearRefreshCookie, refreshModeHeaders, refreshTokenFromCookie, setRefreshCookie, wantsRefreshCookie,
} from './refresh-token-cookie.ts';

export interface IdentityUseCases {
  signUp: SignUp;
  verifyEmail: VerifyEmail;
  requestAccountLink: RequestAccountLink;
  completePasswordReset: CompletePasswordReset;
  signInWithLink: SignInWithLink;
  logIn: LogIn;
  refreshSession: RefreshSession;
  logOut: LogOut;
  issueServiceToken: IssueServiceToken;
  listPublishedKeys: ListPublishedKeys;
}

const tags = ['identity'];
const problems = { 400: problemSchema, 401: problemSchema, 409: problemSchema, 429: problemSchema };

/** Identity's HTTP routes: accounts, tokens, JWKS and discovery. Parse, call a use case, map the result or the domain error. */
export function identityRoutes(useCases: IdentityUseCases, settings: { issuer: string }) {
  return (app: HttpApp): void => {
    accountRoutes(app, useCases);
    sessionRoutes(app, useCases);
    discoveryRoutes(app, useCases, settings.issuer);
    serviceTokenRoute(app, useCases);
  };
}

/** An account's life by email: registering, confirming the address, and the emailed tokens that reset a password or sign in. */
function accountRoutes(app: HttpApp, useCases: IdentityUseCases): void {
  app.post('/v1/auth/register', {
    schema: {
      tags, summary: 'Create a customer account (answered alike whether or not the email has one)',
      description: 'A new address gets an account, usable by signing in at once, and a verification email; the owner of a taken address gets an email saying someone tried. The answer is the same.',
      body: registerRequest, response: { 202: acceptedDto, ...problems },
    },
  }, async (request, reply) => {
    await useCases.signUp.execute(request.body).catch(mapIdentityError(reply));
    return reply.status(202).send({ message: 'Registration received. Sign in with this email and password; a confirmation email is on its way.' });
  });

  app.post('/v1/auth/verify-email', {
    schema: { tags, summary: 'Confirm an address with the token mailed to it', body: accountTokenRequest, response: { 204: z.null(), ...problems } },
  }, async (request, reply) => {
    await useCases.verifyEmail.execute(request.body.token).catch(mapIdentityError(reply));
    return reply.status(204).send(null);
  });

  for (const [url, purpose, summary] of [
    ['/v1/auth/password-reset', 'password-reset', 'Email a password-reset token (answered alike whether or not the email has an account)'],
    ['/v1/auth/sign-in-link', 'sign-in-link', 'Email a one-time sign-in link (answered alike whether or not the email has an account)'],
  ] as const) {
    app.post(url, {
      schema: { tags, summary, body: accountEmailRequest, response: { 202: acceptedDto, ...problems } },
    }, async (request, reply) => {
      await useCases.requestAccountLink.execute({ email: request.body.email, purpose });
      return reply.status(202).send({ message: 'If an account uses this email, a message is on its way to it.' });
    });
  }

  app.post('/v1/auth/password-reset/complete', {
    schema: { tags, summary: 'Set a new password with a password-reset token; ends every session of the account', body: passwordResetCompletion, response: { 204: z.null(), ...problems } },
  }, async (request, reply) => {
    await useCases.completePasswordReset.execute(request.body).catch((error: unknown) => {
      // The policy names the field `password`; in this request it is `newPassword`.
      if (error instanceof InvalidRegistrationError) {
        throw invalidRequest(error.message, [{ location: 'body', field: 'newPassword', message: error.message.slice(error.field.length + 1) }]);
      }
      return mapIdentityError(reply)(error);
    });
    return reply.status(204).send(null);
  });

  app.post('/v1/auth/sign-in-link/complete', {
    schema: { tags, summary: 'Sign in with a one-time sign-in link token', body: accountTokenRequest, response: { 200: tokenPairDto, ...problems } },
  }, async (request, reply) => {
    const pair = await useCases.signInWithLink.execute(request.body.token).catch(mapIdentityError(reply));
    return noStore(reply).send(toTokenPairDto(pair));
  });
}

/**
 * Signing in with a password, and the sessions it starts: refreshed, then ended. With
 * `X-Refresh-Token-Mode: cookie` the refresh token travels as a cookie instead of in the bodies
 * (refresh-token-cookie.ts).
 */
function sessionRoutes(app: HttpApp, useCases: IdentityUseCases): void {
  app.post('/v1/auth/login', {
    schema: { tags, summary: 'Sign in with email and password', headers: refreshModeHeaders, body: loginRequest, response: { 200: tokenPairDto, ...problems } },
  }, async (request, reply) => {
    const pair = await useCases.logIn.execute({ ...request.body, clientAddress: clientAddressOf(request) }).catch(mapIdentityError(reply));
    return noStore(reply).send(answerPair(request, reply, pair));
  });

  app.post('/v1/auth/refresh', {
    schema: {
      tags, summary: 'Trade a refresh token for a new pair (the old one is used up)',
      description: 'The refresh token comes from the body or, when the body has none, from the refresh-token cookie.',
      headers: refreshModeHeaders, body: refreshTokenRequest, response: { 200: tokenPairDto, ...problems },
    },
  }, async (request, reply) => {
    const refreshToken = request.body.refreshToken ?? refreshTokenFromCookie(request);
    if (refreshToken === undefined) {
      throw new HttpProblem({ status: 401, slug: 'invalid-refresh-token', title: 'Refresh token refused', detail: 'Send refreshToken in the body, or sign in with X-Refresh-Token-Mode: cookie first.' });
    }
    const pair = await useCases.refreshSession.execute(refreshToken).catch((error: unknown) => {
      if (wantsRefreshCookie(request) && error instanceof RefreshTokenRefusedError) clearRefreshCookie(request, reply);
      return mapIdentityError(reply)(error);
    });
    return noStore(reply).send(answerPair(request, reply, pair));
  });

  app.post('/v1/auth/logout', {
    schema: {
      tags, summary: 'End the session of a refresh token (from the body, else from the refresh-token cookie, which is cleared)',
      headers: refreshModeHeaders, body: refreshTokenRequest, response: { 204: z.null(), ...problems },
    },
  }, async (request, reply) => {
    const refreshToken = request.body.refreshToken ?? refreshTokenFromCookie(request);
    if (refreshToken !== undefined) await useCases.logOut.execute(refreshToken);
    if (wantsRefreshCookie(request)) clearRefreshCookie(request, reply);
    return reply.status(204).send(null);
  });
}

/** The pair as the body carries it: in the cookie mode, the refresh token goes into the cookie instead. */
function answerPair(request: FastifyRequest, reply: FastifyReply, pair: TokenPair) {
  if (!wantsRefreshCookie(request)) return toTokenPairDto(pair);
  setRefreshCookie(request, reply, pair.refreshToken);
  return { accessToken: pair.accessToken, tokenType: 'Bearer' as const, expiresIn: pair.expiresIn };
}

/** What verifiers read: the public signing keys and the OpenID Provider metadata. */
function discoveryRoutes(app: HttpApp, useCases: IdentityUseCases, configuredIssuer: string): void {
  const issuer = configuredIssuer.replace(/\/+$/, '');

  app.get('/.well-known/jwks.json', {
    schema: { tags, summary: 'Public keys that verify access tokens', response: { 200: jwksDto } },
  }, async (_request, reply) => {
    const keys = await useCases.listPublishedKeys.execute();
    // Short, so a verifier that caches it sees a new key soon; verifiers also refetch on an unknown kid.
    return reply.header('cache-control', 'public, max-age=60').send({ keys });
  });

  app.get('/.well-known/openid-configuration', {
    schema: { tags, summary: 'OpenID Provider metadata', response: { 200: openIdConfigurationDto } },
  }, (_request, reply) => {
    void reply.header('cache-control', 'public, max-age=300');
    return {
      issuer: configuredIssuer,
      jwks_uri: `${issuer}/.well-known/jwks.json`,
      token_endpoint: `${issuer}/v1/auth/token`,
      // Users sign in at /v1/auth/login (not an OAuth grant); only service clients use the token endpoint.
      grant_types_supported: ['client_credentials'],
      token_endpoint_auth_methods_supported: ['client_secret_post'],
      // Required by OpenID Discovery; there is no authorization endpoint, so no browser flow is offered.
      response_types_supported: ['token'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['ES256'],
      claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'nbf', 'jti', 'roles', 'email', 'email_verified'],
    };
  });
}

/** The OAuth client credentials grant, by which service clients get their tokens. */
function serviceTokenRoute(app: HttpApp, useCases: IdentityUseCases): void {
  // Its own scope, so the form parser OAuth clients need applies to this route only.
  void app.register((scoped: HttpApp, _options, done) => {
    scoped.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, parsed) => {
      parsed(null, Object.fromEntries(new URLSearchParams(body as string)));
    });
    scoped.post('/v1/auth/token', {
      schema: {
        tags, summary: 'Client credentials grant: a service token (form or JSON body)', body: clientCredentialsRequest,
        response: { 200: serviceTokenDto, ...problems },
      },
    }, async (request, reply) => {
      const token = await useCases.issueServiceToken.execute({
        clientId: request.body.client_id, clientSecret: request.body.client_secret,
      }).catch(mapIdentityError(reply));
      return noStore(reply).send({ access_token: token.accessToken, token_type: 'Bearer' as const, expires_in: token.expiresIn });
    });
    done();
  });
}

function toTokenPairDto(pair: TokenPair) {
  return { accessToken: pair.accessToken, tokenType: 'Bearer' as const, expiresIn: pair.expiresIn, refreshToken: pair.refreshToken };
}

/** Tokens must not be kept by caches (RFC 6749 section 5.1). */
function noStore(reply: FastifyReply): FastifyReply {
  return reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
}

function mapIdentityError(reply: FastifyReply) {
  return (error: unknown): never => {
    if (error instanceof InvalidRegistrationError) {
      throw invalidRequest(error.message, [{ location: 'body', field: error.field, message: error.message.slice(error.field.length + 1) }]);
    }
    if (error instanceof InvalidCredentialsError) throw new HttpProblem({ status: 401, slug: 'invalid-credentials', title: 'Sign-in failed', detail: error.message });
    if (error instanceof AccountDisabledError) throw new HttpProblem({ status: 403, slug: 'account-disabled', title: 'Account disabled', detail: error.message });
    if (error instanceof LoginThrottledError) {
      void reply.header('retry-after', String(error.retryAfterSeconds));
      throw new HttpProblem({ status: 429, slug: 'too-many-sign-in-attempts', title: 'Too many failed sign-ins', detail: error.message });
    }
    if (error instanceof RefreshTokenRefusedError) {
      throw new HttpProblem({
        status: 401, slug: error.refusal === 'reused' ? 'refresh-token-reused' : 'invalid-refresh-token', title: 'Refresh token refused', detail: error.message,
      });
    }
    if (error instanceof AccountTokenRefusedError) throw new HttpProblem({ status: 400, slug: 'invalid-account-token', title: 'The emailed token is not valid', detail: error.message });
    if (error instanceof InvalidClientError) throw new HttpProblem({ status: 401, slug: 'invalid-client', title: 'Client authentication failed', detail: error.message });
    throw error;
  };
}
