import { sameMoney } from './money.ts'; // allowed: the kernel uses the kernel
import { randomInt } from 'node:crypto'; // VIOLATION kernel-purity: node builtin
import { z } from 'zod'; // VIOLATION kernel-purity: npm package
import { createLogger } from '../platform/logging/logger.ts'; // VIOLATION kernel-purity: the platform
import { createOtherClient } from '../modules/other/index.ts'; // VIOLATION kernel-purity: a module, even via index.ts

export interface Backoff {
  readonly baseDelayMs: number;
}

export function backoffDelayMs(backoff: Backoff, attempt: number): number {
  createLogger().info(String(sameMoney({ amount: 1, currency: 'EUR' }, { amount: 1, currency: 'EUR' })));
  return z.number().parse(backoff.baseDelayMs * 2 ** attempt + randomInt(10)) + createOtherClient().listProducts().length;
}
