import type * as Logging from '../../../../platform/logging/logger.ts'; // allowed: a type-only import loads no code
import { createLogger } from '../../../../platform/logging/logger.ts'; // VIOLATION route-policies-purity: code, loaded by every reader of the registry

type Logger = ReturnType<typeof Logging.createLogger>;

export const shopRoutePolicies: { route: string; access: string; log?: Logger }[] = [{ route: 'POST /orders', access: 'customer', log: createLogger() }];
