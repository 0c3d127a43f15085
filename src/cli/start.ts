import type { ProcessRole } from '../apps/single-process.ts';
import type { Config } from '../platform/config/config.ts';
import type { Logger } from '../platform/logging/logger.ts';
import { loadApp } from './database.ts';
import { startGateway } from './start-gateway.ts';
import { startServices } from './start-services.ts';
import { startSingleProcess } from './start-single-process.ts';
import { UsageError } from './usage.ts';

function isProcessRole(role: string, processRoles: readonly ProcessRole[]): role is ProcessRole {
  return (processRoles as readonly string[]).includes(role);
}

/** `orderstream start [--role …]`: the gateway, some services of the services shape, or the single process (the default). */
export async function start(config: Config, logger: Logger, roleOption: string): Promise<void> {
  const roles = roleOption.split(',').map((role) => role.trim()).filter((role) => role !== '');
  if (roles.length === 1 && roles[0] === 'gateway') {
    await startGateway(config, logger);
    return;
  }
  const { isServiceRole, serviceRoles } = await import('../apps/services.ts');
  if (roles.length > 0 && roles.every((role) => isServiceRole(role))) {
    await startServices(config, logger, roles);
    return;
  }
  const role = roles.length === 1 ? roles[0] ?? roleOption : roleOption;
  const { processRoles } = await loadApp();
  if (!isProcessRole(role, processRoles)) {
    throw new UsageError(`Unknown role "${roleOption}"; use --role ${[...processRoles, 'gateway'].join(', --role ')}, or service roles (comma-separated): ${serviceRoles.join(', ')}.`);
  }
  await startSingleProcess(config, logger, role);
}
