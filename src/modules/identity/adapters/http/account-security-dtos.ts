import { z } from 'zod';
import { maxPasswordLength } from '../../domain/password-policy.ts';
import type { User } from '../../domain/user.ts';

export const changePasswordRequest = z.strictObject({
  currentPassword: z.string().min(1).max(maxPasswordLength),
  newPassword: z.string().min(1).max(maxPasswordLength).describe('At least 12 characters, not a well-known password, not the current one.'),
}).meta({ id: 'ChangePasswordRequest', examples: [{ currentPassword: 'plum harbour violet forty-two', newPassword: 'a new and longer passphrase' }] });

export const userIdParams = z.strictObject({ id: z.string().min(1).max(128) });

export const revokedSessionsDto = z.object({
  userId: z.string(),
  sessionsRevoked: z.int().describe('Sessions (refresh-token families) that were still open; every access token issued before now is refused too.'),
}).meta({ id: 'RevokedSessions' });

export const accountStatusDto = z.object({
  id: z.string(),
  email: z.string(),
  roles: z.array(z.enum(['customer', 'admin', 'service'])),
  disabled: z.boolean(),
  disabledAt: z.iso.datetime().nullable(),
}).meta({ id: 'AccountStatus' });

export function toAccountStatusDto(user: User): z.infer<typeof accountStatusDto> {
  return { id: user.id, email: user.email, roles: [...user.roles], disabled: user.disabledAt !== undefined, disabledAt: user.disabledAt?.toISOString() ?? null };
}
