import { chmod, readFile, writeFile } from 'node:fs/promises';
import { isOurProcess, readPidFile } from './background-process.ts';
import { pickPort } from './local-network.ts';
import { displayPath, type ServicesFiles } from './services-folder.ts';
import {
  defaultApiPort, defaultDatabasePrefix, ServicesArgumentError, ServicesError, type ServicesOptions,
} from './services-options.ts';
import { moduleNames, type ModuleName } from '../src/apps/module-registry.ts';

// One service role per module. The registry names no module's code, so reading it here does not
// load every module (seconds) for a command that only starts processes.
export type ServiceRole = ModuleName;
export const serviceRoles: readonly ServiceRole[] = moduleNames;

type Role = 'gateway' | ServiceRole;

export interface PlannedProcess {
  name: string;
  role: Role;
  port: number;
  opsPort: number;
}

/** What one `up` decided and every later command reads: ports, names, where messages go. */
export interface ServicesPlan {
  apiPort: number;
  databasePrefix: string;
  /**
   * The PostgreSQL server of the databases, so that admin commands (`seed`, `users grant-admin`,
   * `keys rotate`) reach the databases the services use whatever their own DATABASE_URL says.
   * Absent from plans written before it was recorded: the caller's server then.
   */
  serverUrl?: string;
  kafkaBrokers: string;
  /** True when the brokers are the local ones of infra/kafka/run.sh (which `up` may start). */
  kafkaLocal: boolean;
  kafkaNamespace: string;
  redisKeyPrefix: string;
  processes: PlannedProcess[];
}

const gatewayNames = ['gateway-1', 'gateway-2'] as const;
// Easy to remember when free (a gateway on 809x, service n on 810n, each metrics port 1000 above); else any free port.
const preferredPorts: Readonly<Record<string, number>> = {
  'gateway-1': 8091, 'gateway-2': 8092,
  ...Object.fromEntries(serviceRoles.map((role, index) => [role, 8101 + index])),
};

/** The plan of the processes already running, else a new one from the options (ports chosen now). */
export async function choosePlan(files: ServicesFiles, options: ServicesOptions): Promise<ServicesPlan> {
  const existing = await readPlan(files);
  if (existing !== undefined && (await aliveProcesses(files, existing)).size > 0) {
    const conflicts = [
      ...(options.port !== undefined && options.port !== existing.apiPort ? [`the API is on port ${existing.apiPort}, not ${options.port}`] : []),
      ...(options.databasePrefix !== undefined && options.databasePrefix !== existing.databasePrefix ? [`the databases are ${existing.databasePrefix}*, not ${options.databasePrefix}*`] : []),
    ];
    if (conflicts.length > 0) {
      throw new ServicesArgumentError(`The services in ${displayPath(files.dir)} already run and ${conflicts.join(' and ')}; run \`orderstream services down\` first to change that.`);
    }
    return existing;
  }
  const apiPort = options.port ?? defaultApiPort;
  const databasePrefix = options.databasePrefix ?? defaultDatabasePrefix;
  const derived = databasePrefix.replaceAll('_', '-').replace(/-+$/, '');
  const taken = new Set([apiPort]);
  const processes: PlannedProcess[] = [];
  for (const [name, role] of [...gatewayNames.map((gateway) => [gateway, 'gateway'] as const), ...serviceRoles.map((service) => [service, service] as const)]) {
    const preferred = preferredPorts[name] ?? 0;
    const port = await pickPort(preferred, taken);
    const opsPort = await pickPort(preferred + 1000, taken);
    processes.push({ name, role, port, opsPort });
  }
  const plan: ServicesPlan = {
    apiPort,
    databasePrefix,
    serverUrl: options.serverUrl,
    kafkaBrokers: options.kafkaBrokers ?? `127.0.0.1:${options.env.ORDERSTREAM_KAFKA_PORT ?? '19092'}`,
    kafkaLocal: options.kafkaBrokers === undefined,
    kafkaNamespace: options.kafkaNamespace ?? derived,
    redisKeyPrefix: options.redisKeyPrefix ?? `${derived}:`,
    processes,
  };
  // Owner-only, like the secrets beside it: the server's URL may carry a password.
  await writeFile(files.plan, `${JSON.stringify(plan, null, 2)}\n`, { mode: 0o600 });
  await chmod(files.plan, 0o600);
  return plan;
}

export async function readPlan(files: ServicesFiles): Promise<ServicesPlan | undefined> {
  try {
    return JSON.parse(await readFile(files.plan, 'utf8')) as ServicesPlan;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ServicesError(`${files.plan} is unreadable (${(error as Error).message}); stop what runs by hand, delete the file and run up again.`);
  }
}

/** The names (processes and `nginx`) whose pid file names a live process of this folder. */
export async function aliveProcesses(files: ServicesFiles, plan: ServicesPlan): Promise<Set<string>> {
  const alive = new Set<string>();
  for (const name of [...plan.processes.map((planned) => planned.name), 'nginx']) {
    const pid = await readPidFile(files.pidOf(name));
    if (pid !== undefined && await isOurProcess(pid, files.dir)) alive.add(name);
  }
  return alive;
}

export function databaseUrlOf(serverUrl: string, databasePrefix: string, role: ServiceRole): string {
  const database = new URL(serverUrl);
  database.pathname = `/${databasePrefix}${role}`;
  return database.toString();
}
