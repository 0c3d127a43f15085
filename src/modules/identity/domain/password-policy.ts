import { InvalidRegistrationError } from './identity.errors.ts';

export const minPasswordLength = 12;
/** Upper bound so a huge password cannot make hashing expensive. */
export const maxPasswordLength = 256;

// Passwords of 12+ characters that still top breach lists; compared case-insensitively.
const commonPasswords = new Set([
  '123456789012', '1234567890123', '12345678910', 'qwertyuiopas', 'qwertyuiop123', 'qwerty123456',
  'password1234', 'password12345', 'password123!', 'passwordpassword', 'iloveyou1234', 'abcdefghijkl',
  'abc123456789', 'letmein12345', 'welcome12345', 'welcome123456', 'administrator', 'adminadmin123',
  'football1234', 'baseball1234', 'sunshine1234', 'princess1234', 'monkey123456', 'dragon123456',
  'trustno1trustno1', 'aaaaaaaaaaaa', '111111111111', '000000000000', 'changeme1234', 'changemenow!',
  'superman1234', 'starwars1234', 'qazwsxedcrfv', '1q2w3e4r5t6y', '1qaz2wsx3edc', 'zaq12wsxcde3',
  'correcthorsebatterystaple', 'mypassword123', 'orderstream123', 'p@ssw0rd1234', 'passw0rd1234',
]);

/** Refuses passwords that are short, overly long or well known; returns the password unchanged. */
export function checkPasswordPolicy(password: string): string {
  if (password.length < minPasswordLength) throw new InvalidRegistrationError('password', `must be at least ${minPasswordLength} characters`);
  if (password.length > maxPasswordLength) throw new InvalidRegistrationError('password', `must be at most ${maxPasswordLength} characters`);
  if (commonPasswords.has(password.toLowerCase())) throw new InvalidRegistrationError('password', 'is too common; choose another');
  if (new Set(password).size === 1) throw new InvalidRegistrationError('password', 'must not repeat a single character');
  return password;
}
