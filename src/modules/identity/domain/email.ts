import { InvalidRegistrationError } from './identity.errors.ts';

export const maxEmailLength = 254;

// Deliberately loose: one @, no spaces, a dot in the domain. Deliverability is not checked here.
const emailPattern = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** The one spelling of an email an account is stored and looked up by: trimmed and lower-case. */
export function normaliseEmail(raw: string): string {
  return raw.trim().toLowerCase();
}

/** Normalises and validates an email for a new account. */
export function validEmail(raw: string): string {
  const email = normaliseEmail(raw);
  if (email.length > maxEmailLength) throw new InvalidRegistrationError('email', `must be at most ${maxEmailLength} characters`);
  if (!emailPattern.test(email)) throw new InvalidRegistrationError('email', 'must be an email address such as ada@example.com');
  return email;
}
