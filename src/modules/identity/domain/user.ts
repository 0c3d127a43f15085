/** The roles an account or client can hold; `service` belongs only to service clients. */
export type Role = 'customer' | 'admin' | 'service';

/** A person's account. The email is stored normalised and is unique. */
export interface User {
  readonly id: string;
  readonly email: string;
  readonly passwordHash: string;
  readonly roles: readonly Role[];
  readonly createdAt: Date;
  /** Set while an admin has disabled the account: no sign-in, no refresh. */
  readonly disabledAt?: Date | undefined;
  /** When the owner proved the address is theirs (a mailed token came back); unset until then. */
  readonly emailVerifiedAt?: Date | undefined;
}

/** A new account: every person starts as a customer. */
export function createUser(input: { id: string; email: string; passwordHash: string }, now: Date): User {
  return { id: input.id, email: input.email, passwordHash: input.passwordHash, roles: ['customer'], createdAt: now };
}

/** The user with `role` added; the same user when it already holds it. */
export function grantRole(user: User, role: Role): User {
  if (user.roles.includes(role)) return user;
  return { ...user, roles: [...user.roles, role] };
}
