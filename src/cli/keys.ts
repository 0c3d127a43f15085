import type { Config } from '../platform/config/config.ts';
import type { Logger } from '../platform/logging/logger.ts';
import { onAdminTarget, withOrderStream } from './admin-target.ts';
import { usage, UsageError, type AdminTargetOptions } from './usage.ts';

/** `orderstream keys rotate|rewrap`: the token signing keys, on whichever shape runs (or `--shape`). */
export async function keys(config: Config, logger: Logger, args: string[], values: AdminTargetOptions): Promise<void> {
  if (args[0] === 'rewrap') {
    await onAdminTarget(config, values, async (target) => {
      const { rewrapped, total } = target.shape === 'services'
        ? await target.admin.withServicesIdentity(target.services, config, logger, (identity) => identity.rewrapSigningKeys())
        : await withOrderStream(config, logger, (orderstream) => orderstream.identity.rewrapSigningKeys());
      console.log(`${rewrapped} of ${total} signing keys re-encrypted; all are now under the current key-encryption key, and IDENTITY_KEY_ENCRYPTION_KEY_PREVIOUS can be removed.`);
    });
    return;
  }
  if (args[0] !== 'rotate') throw new UsageError(`Usage: orderstream keys rotate|rewrap [--shape single|services]\n\n${usage}`);
  await onAdminTarget(config, values, async (target) => {
    if (target.shape === 'services') await target.admin.withServicesIdentity(target.services, config, logger, (identity) => identity.rotateSigningKey());
    else await withOrderStream(config, logger, (orderstream) => orderstream.identity.rotateSigningKey());
    console.log('A new signing key is current; the previous one stays published until its tokens expire.');
  });
}
