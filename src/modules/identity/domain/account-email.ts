import type { AccountTokenPurpose } from './account-token.ts';

/** An email identity sends to an account's address: a notice, or a single-use token for one purpose. */
export type AccountEmail =
  | { readonly kind: 'registration-notice'; readonly to: string }
  | { readonly kind: AccountTokenPurpose; readonly to: string; readonly token: string; readonly expiresAt: Date };

/** What an account email is about; at most one of each kind is sent to an account per interval. */
export type AccountEmailKind = AccountEmail['kind'];

/** Subject and text of an email. */
export interface AccountEmailContent {
  readonly subject: string;
  readonly text: string;
}

/** Where a token is used: the shop page that finishes the step (given `linkBaseUrl`), and the API route it calls. */
const steps: Readonly<Record<AccountTokenPurpose, { page: string; route: string; subject: string; why: string; action: string }>> = {
  'verify-email': {
    page: 'verify-email', route: 'POST /v1/auth/verify-email {"token"}', subject: 'Confirm your email address',
    why: 'An OrderStream account was created with this address.', action: 'To confirm the address is yours',
  },
  'password-reset': {
    page: 'reset-password', route: 'POST /v1/auth/password-reset/complete {"token","newPassword"}', subject: 'Reset your password',
    why: 'Someone asked to reset the password of the OrderStream account with this address.', action: 'To choose a new password',
  },
  'sign-in-link': {
    page: 'sign-in', route: 'POST /v1/auth/sign-in-link/complete {"token"}', subject: 'Your sign-in link',
    why: 'Someone asked for a link to sign in to the OrderStream account with this address.', action: 'To sign in',
  },
};

/**
 * The text of an account email. A token travels in the link's fragment (`#token=`), which browsers
 * never send to a server, so it does not land in access logs or Referer headers.
 */
export function renderAccountEmail(email: AccountEmail, options: { linkBaseUrl: string | undefined; now: Date }): AccountEmailContent {
  if (email.kind === 'registration-notice') {
    return {
      subject: 'Someone tried to register with your address',
      text: [
        'Hello,',
        'Someone tried to create an OrderStream account with this address, which already has one. No new account was created.',
        'If it was you, sign in with your password, or reset it if you forgot it. If it was not you, you need do nothing: your account is unchanged.',
        'OrderStream',
      ].join('\n\n') + '\n',
    };
  }
  const step = steps[email.kind];
  const minutes = Math.round((email.expiresAt.getTime() - options.now.getTime()) / 60_000);
  const validity = minutes >= 120 ? `${Math.round(minutes / 60)} hours` : `${Math.max(1, minutes)} minutes`;
  const base = options.linkBaseUrl?.replace(/\/+$/, '');
  const how = base === undefined
    ? `${step.action}, send this code with ${step.route}:\n\n  ${email.token}`
    : `${step.action}, open this link:\n\n  ${base}/${step.page}#token=${email.token}`;
  return {
    subject: step.subject,
    text: [
      'Hello,',
      step.why,
      how,
      `It works once, within ${validity}. If you did not ask for this, ignore this email: nothing changes.`,
      'OrderStream',
    ].join('\n\n') + '\n',
  };
}
