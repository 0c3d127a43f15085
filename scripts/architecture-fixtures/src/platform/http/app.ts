import type { OrderPlacedV1 } from '../../modules/shop/index.ts'; // VIOLATION platform-independence: a module, even via index.ts
import { start } from '../../apps/main.ts'; // VIOLATION platform-independence: an app
import { createLogger } from '../logging/logger.ts'; // allowed: platform uses platform

export function createHttpApp(): unknown {
  createLogger().info('app');
  return { start, event: undefined as OrderPlacedV1 | undefined };
}
