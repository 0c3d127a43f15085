import type { HttpApp } from '../../../../platform/http/app.ts';
import { HttpProblem, invalidRequest, problemSchema } from '../../../../platform/http/problem.ts';
import { requirePrincipal } from '../../../../platform/http/principal.ts';
import type { ChangePassword } from '../../application/change-password.ts';
import type { DisableAccount } from '../../application/disable-account.ts';
import type { EnableAccount } from '../../application/enable-account.ts';
import type { RevokeUserSessions } from '../../application/revoke-user-sessions.ts';
import {
  AccountDisabledError, AccountNotFoundError, CurrentPasswordIncorrectError, InvalidRegistrationError,
} from '../../domain/identity.errors.ts';
import { tokenPairDto } from './identity-dtos.ts';
import { accountStatusDto, changePasswordRequest, revokedSessionsDto, toAccountStatusDto, userIdParams } from './account-security-dtos.ts';

export interface AccountSecurityUseCases {
  changePassword: ChangePassword;
  revokeUserSessions: RevokeUserSessions;
  disableAccount: DisableAccount;
  enableAccount: EnableAccount;
}

const tags = ['identity'];
const problems = { 400: problemSchema, 401: problemSchema, 403: problemSchema, 404: problemSchema };

/**
 * The routes that end sessions: a user's own password change, and an admin's revoking of a user's
 * sessions and disabling or enabling of an account. Who may call them is the edge's route policy
 * (customer, admin); the password change acts on the verified caller only.
 */
export function accountSecurityRoutes(useCases: AccountSecurityUseCases) {
  return (app: HttpApp): void => {
    app.post('/v1/auth/password', {
      schema: {
        tags, summary: 'Change your password; every session ends and a fresh pair is answered', body: changePasswordRequest,
        response: { 200: tokenPairDto, ...problems },
      },
    }, async (request, reply) => {
      const caller = requirePrincipal(request, { devIdentityHeaders: false });
      const pair = await useCases.changePassword.execute({ userId: caller.id, ...request.body }).catch(mapAccountError);
      return reply.header('cache-control', 'no-store').header('pragma', 'no-cache')
        .send({ accessToken: pair.accessToken, tokenType: 'Bearer' as const, expiresIn: pair.expiresIn, refreshToken: pair.refreshToken });
    });

    app.post('/v1/admin/users/:id/sessions/revoke', {
      schema: { tags, summary: 'End every session of a user at once', params: userIdParams, response: { 200: revokedSessionsDto, ...problems } },
    }, async (request) => {
      const { id } = request.params;
      const { sessionsRevoked } = await useCases.revokeUserSessions.execute(id, 'admin').catch(mapAccountError);
      return { userId: id, sessionsRevoked };
    });

    app.post('/v1/admin/users/:id/disable', {
      schema: { tags, summary: 'Disable an account: no sign-in, every session and token revoked', params: userIdParams, response: { 200: accountStatusDto, ...problems } },
    }, async (request) => toAccountStatusDto(await useCases.disableAccount.execute(request.params.id).catch(mapAccountError)));

    app.post('/v1/admin/users/:id/enable', {
      schema: { tags, summary: 'Enable a disabled account again', params: userIdParams, response: { 200: accountStatusDto, ...problems } },
    }, async (request) => toAccountStatusDto(await useCases.enableAccount.execute(request.params.id).catch(mapAccountError)));
  };
}

function mapAccountError(error: unknown): never {
  if (error instanceof AccountNotFoundError) throw new HttpProblem({ status: 404, slug: 'account-not-found', title: 'No such account', detail: error.message });
  if (error instanceof AccountDisabledError) throw new HttpProblem({ status: 403, slug: 'account-disabled', title: 'Account disabled', detail: error.message });
  if (error instanceof CurrentPasswordIncorrectError) {
    throw new HttpProblem({ status: 403, slug: 'current-password-incorrect', title: 'Current password incorrect', detail: error.message });
  }
  if (error instanceof InvalidRegistrationError) {
    throw invalidRequest(`newPassword ${error.message.slice(error.field.length + 1)}`, [
      { location: 'body', field: 'newPassword', message: error.message.slice(error.field.length + 1) },
    ]);
  }
  throw error;
}
