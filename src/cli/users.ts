import type { IdentityModule } from '../modules/identity/index.ts';
import type { Config } from '../platform/config/config.ts';
import type { Logger } from '../platform/logging/logger.ts';
import { onAdminTarget, withOrderStream } from './admin-target.ts';
import { usage, UsageError, type AdminTargetOptions } from './usage.ts';

const actions = ['grant-admin', 'revoke-sessions', 'disable', 'enable'] as const;
type UserAction = (typeof actions)[number];

function isUserAction(action: string | undefined): action is UserAction {
  return (actions as readonly (string | undefined)[]).includes(action);
}

/** Does `action` to the account `email`; returns the line that tells the operator what it did. */
async function act(identity: IdentityModule, action: UserAction, email: string): Promise<string> {
  switch (action) {
    case 'grant-admin': {
      const user = await identity.grantAdmin(email);
      return `${user.email} now has the roles: ${user.roles.join(', ')} (tokens issued before are refused; the next one carries them).`;
    }
    case 'revoke-sessions': {
      const user = await identity.revokeSessionsOf(email);
      return `${user.email}: ${user.sessionsRevoked} open sessions revoked; every access token issued before now is refused.`;
    }
    case 'disable': {
      const user = await identity.disableAccount(email);
      return `${user.email} is disabled: sign-in and refresh are refused, and every session and access token is revoked.`;
    }
    case 'enable': {
      const user = await identity.enableAccount(email);
      return `${user.email} is enabled: it may sign in again.`;
    }
  }
}

/** `orderstream users grant-admin|revoke-sessions|disable|enable EMAIL`, on whichever shape runs (or `--shape`). */
export async function users(config: Config, logger: Logger, args: string[], values: AdminTargetOptions): Promise<void> {
  const [action, email] = args;
  if (!isUserAction(action) || email === undefined) {
    throw new UsageError(`Usage: orderstream users grant-admin|revoke-sessions|disable|enable EMAIL [--shape single|services]\n\n${usage}`);
  }
  const { UserNotFoundError } = await import('../modules/identity/index.ts');
  await onAdminTarget(config, values, async (target) => {
    try {
      const message = target.shape === 'services'
        ? await target.admin.withServicesIdentity(target.services, config, logger, (identity) => act(identity, action, email))
        : await withOrderStream(config, logger, (orderstream) => act(orderstream.identity, action, email));
      console.log(message);
    } catch (error) {
      if (error instanceof UserNotFoundError) throw new UsageError(`No account with the email ${email}.`);
      throw error;
    }
  });
}
