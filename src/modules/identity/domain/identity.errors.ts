/** A registration field breaks an account rule. */
export class InvalidRegistrationError extends Error {
  readonly field: 'email' | 'password';
  constructor(field: 'email' | 'password', reason: string) {
    super(`${field} ${reason}`);
    this.name = 'InvalidRegistrationError';
    this.field = field;
  }
}

/** Another account already uses this email. */
export class EmailTakenError extends Error {
  constructor(email: string) {
    super(`An account with email ${email} already exists`);
    this.name = 'EmailTakenError';
  }
}

/** No account has this email. */
export class UserNotFoundError extends Error {
  constructor(email: string) {
    super(`No account has email ${email}`);
    this.name = 'UserNotFoundError';
  }
}

/** Email and password do not match an account; deliberately silent about which one is wrong. */
export class InvalidCredentialsError extends Error {
  constructor() {
    super('The email or password is not correct');
    this.name = 'InvalidCredentialsError';
  }
}

/** Too many failed sign-ins for this account or address; try again after `retryAfterSeconds`. */
export class LoginThrottledError extends Error {
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number) {
    super(`Too many failed sign-ins; try again in ${retryAfterSeconds} seconds`);
    this.name = 'LoginThrottledError';
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** Why a refresh token was refused. */
export type RefreshRefusal = 'unknown' | 'expired' | 'revoked' | 'reused';

/** The refresh token cannot be used; on `reused` its whole family has just been revoked. */
export class RefreshTokenRefusedError extends Error {
  readonly refusal: RefreshRefusal;
  constructor(refusal: RefreshRefusal) {
    super(refusalMessages[refusal]);
    this.name = 'RefreshTokenRefusedError';
    this.refusal = refusal;
  }
}

const refusalMessages: Record<RefreshRefusal, string> = {
  unknown: 'The refresh token is not valid',
  expired: 'The refresh token has expired; sign in again',
  revoked: 'The refresh token was revoked; sign in again',
  reused: 'The refresh token was already used; every session descended from it is revoked, sign in again',
};

/** The client id and secret do not match a service client. */
export class InvalidClientError extends Error {
  constructor() {
    super('The client id or secret is not correct');
    this.name = 'InvalidClientError';
  }
}

/** A service client name breaks a rule or is taken. */
export class InvalidServiceClientError extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'InvalidServiceClientError';
  }
}

/** No account has this id. */
export class AccountNotFoundError extends Error {
  constructor(userId: string) {
    super(`No account has id ${userId}`);
    this.name = 'AccountNotFoundError';
  }
}

/** The account is disabled by an admin: it cannot sign in or refresh until enabled again. */
export class AccountDisabledError extends Error {
  constructor() {
    super('This account is disabled; contact the shop');
    this.name = 'AccountDisabledError';
  }
}

/** The current password given to change it is not the account's. */
export class CurrentPasswordIncorrectError extends Error {
  constructor() {
    super('The current password is not correct');
    this.name = 'CurrentPasswordIncorrectError';
  }
}

/** A mailed account token was refused: unknown, already used, expired, or its account cannot use it. Silent about which. */
export class AccountTokenRefusedError extends Error {
  constructor() {
    super('The token is not valid: it is unknown, already used or expired; ask for a new email');
    this.name = 'AccountTokenRefusedError';
  }
}
