import { InvalidServiceClientError } from './identity.errors.ts';

/** A machine caller that gets `service` tokens with its id and secret (client credentials). */
export interface ServiceClient {
  readonly id: string;
  readonly name: string;
  /** Hash of the secret; the secret itself is shown once at creation and never stored. */
  readonly secretHash: string;
  readonly createdAt: Date;
}

const namePattern = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** A service client name: 1-64 lower-case letters, digits, ".", "_" or "-". */
export function validClientName(raw: string): string {
  const name = raw.trim().toLowerCase();
  if (!namePattern.test(name)) throw new InvalidServiceClientError('A client name is 1-64 lower-case letters, digits, ".", "_" or "-"');
  return name;
}
