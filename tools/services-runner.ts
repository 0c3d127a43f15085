import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, readdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import path from 'node:path';
import {
  isOurProcess, logOffset, readPidFile, removePidFile, sleep, startDetached, stopProcess, tailOf, writePidFile,
} from './background-process.ts';
import { ensureNginx, localNginxArguments, localNginxFiles, writeLocalNginxConfig } from './local-nginx.ts';
import { databaseVariableOf, moduleNames, type ModuleName } from '../src/apps/module-registry.ts';

/**
 * `orderstream services up|down|status`: the whole services shape on one machine, as background
 * processes — nginx in front of two gateways, one process per service role on a database of its
 * own on the local PostgreSQL server, Kafka between them — with everything it keeps (pids, logs,
 * secrets, nginx's files, the port plan) under one folder, `.data/services` by default.
 */

const projectRoot = path.resolve(import.meta.dirname, '..');

// One service role per module. The registry names no module's code, so reading it here does not
// load every module (seconds) for a command that only starts processes.
type ServiceRole = ModuleName;
const serviceRoles: readonly ServiceRole[] = moduleNames;

export const defaultServicesDir = '.data/services';
export const defaultApiPort = 8080;
export const defaultDatabasePrefix = 'orderstream_';
export const defaultServerUrl = 'postgres://postgres@127.0.0.1:5432/postgres';
export const defaultRedisUrl = 'redis://127.0.0.1:6379';
export const servicesActions = ['up', 'down', 'status'] as const;
export type ServicesAction = (typeof servicesActions)[number];

/** A wrong argument or option of `orderstream services` (exit code 2). */
export class ServicesArgumentError extends Error {}
/** Something that stops `up` or `down`, said plainly (exit code 1). */
export class ServicesError extends Error {}

export interface ServicesOptions {
  /** The folder of pids, logs, secrets and nginx's files; relative to the working directory. */
  dir: string;
  /** Where nginx listens (127.0.0.1): the API's port. Undefined: the running plan's, else 8080. */
  port?: number;
  /** Databases are named `<prefix><role>`. Undefined: the running plan's, else `orderstream_`. */
  databasePrefix?: string;
  /** The PostgreSQL server the databases are made on (its own database is only used to make them). */
  serverUrl: string;
  redisUrl: string;
  /** Unset: the local broker of infra/kafka/run.sh, started when it is not running. */
  kafkaBrokers?: string;
  /** Unset: derived from the database prefix, so two folders sharing a broker never share topics. */
  kafkaNamespace?: string;
  /** Unset: derived from the database prefix. */
  redisKeyPrefix?: string;
  /** `down` only: after stopping, delete the run's Kafka topics and groups, its databases and the folder. */
  purge?: boolean;
  /** The environment the processes inherit (before the variables the runner sets). */
  env: NodeJS.ProcessEnv;
  /** Results (the table); defaults to standard output. */
  print?: (line: string) => void;
  /** Progress; defaults to standard error. */
  note?: (line: string) => void;
}

type Role = 'gateway' | ServiceRole;

interface PlannedProcess {
  name: string;
  role: Role;
  port: number;
  opsPort: number;
}

/** What one `up` decided and every later command reads: ports, names, where messages go. */
interface ServicesPlan {
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

/** The files of one services folder. */
function filesOf(dir: string) {
  return {
    dir,
    plan: path.join(dir, 'services.json'),
    lock: path.join(dir, '.lock'),
    secret: path.join(dir, 'secret'),
    keyEncryptionKey: path.join(dir, 'identity-key-encryption-key'),
    kafkaStarted: path.join(dir, 'kafka-started'),
    documents: path.join(dir, 'documents'),
    mailOutbox: path.join(dir, 'mail-outbox'),
    logs: path.join(dir, 'logs'),
    pids: path.join(dir, 'pids'),
    logOf: (name: string) => path.join(dir, 'logs', `${name}.log`),
    pidOf: (name: string) => path.join(dir, 'pids', `${name}.pid`),
    nginx: localNginxFiles(dir),
  };
}
type ServicesFiles = ReturnType<typeof filesOf>;

/** Checks the options of one `orderstream services` command; throws ServicesArgumentError. */
export function parseServicesArguments(positionals: readonly string[], values: { port?: string; 'database-prefix'?: string; purge?: boolean }): {
  action: ServicesAction; port?: number; databasePrefix?: string; purge?: boolean;
} {
  const [action, ...extra] = positionals;
  if (action === undefined || !(servicesActions as readonly string[]).includes(action)) {
    throw new ServicesArgumentError(action === undefined ? 'Say what to do: orderstream services up|down|status.' : `Unknown services action "${action}"; use up, down or status.`);
  }
  if (extra.length > 0) throw new ServicesArgumentError(`Unexpected argument "${extra.join(' ')}" after services ${action}.`);
  const chosen = action as ServicesAction;
  if (chosen !== 'up' && (values.port !== undefined || values['database-prefix'] !== undefined)) {
    throw new ServicesArgumentError(`--port and --database-prefix apply to services up only (services ${chosen} reads what up chose).`);
  }
  if (chosen !== 'down' && values.purge === true) throw new ServicesArgumentError(`--purge applies to services down only.`);
  let port: number | undefined;
  if (values.port !== undefined) {
    if (!/^[0-9]{1,5}$/.test(values.port) || Number(values.port) < 1 || Number(values.port) > 65535) {
      throw new ServicesArgumentError(`--port must be a port number (1-65535), not "${values.port}".`);
    }
    port = Number(values.port);
  }
  const databasePrefix = values['database-prefix'];
  if (databasePrefix !== undefined && !/^[a-z][a-z0-9_]{0,39}$/.test(databasePrefix)) {
    throw new ServicesArgumentError(`--database-prefix must be lower-case letters, digits and "_", starting with a letter (at most 40), not "${databasePrefix}".`);
  }
  return {
    action: chosen, ...(port === undefined ? {} : { port }), ...(databasePrefix === undefined ? {} : { databasePrefix }),
    ...(values.purge === true ? { purge: true } : {}),
  };
}

/** Runs one action; resolves with the exit code (status: 0 only when everything runs and is ready). */
export async function runServices(action: ServicesAction, options: ServicesOptions): Promise<number> {
  switch (action) {
    case 'up':
      return servicesUp(options);
    case 'down':
      return servicesDown(options);
    case 'status':
      return servicesStatus(options);
  }
}

function printer(options: ServicesOptions) {
  return {
    print: options.print ?? ((line: string) => { process.stdout.write(`${line}\n`); }),
    note: options.note ?? ((line: string) => { process.stderr.write(`services: ${line}\n`); }),
  };
}

// ---------------------------------------------------------------------------------------------
// up

/**
 * Starts whatever of the plan is not running (all of it the first time), waits until each process
 * says it listens, then until the API answers /readyz through nginx, and prints the table.
 * Processes already running are left alone, so running it twice is harmless.
 */
export async function servicesUp(options: ServicesOptions): Promise<number> {
  const { print, note } = printer(options);
  const files = filesOf(path.resolve(options.dir));
  await mkdir(files.logs, { recursive: true });
  await mkdir(files.pids, { recursive: true });
  return withLock(files, async () => {
    const plan = await choosePlan(files, options);
    const alive = await aliveProcesses(files, plan);
    const nginxRunning = alive.has('nginx');
    const toStart = plan.processes.filter((planned) => !alive.has(planned.name));
    if (toStart.length === 0 && nginxRunning) note('everything is already running');
    // Before anything starts: a missing nginx or a taken port should not leave half a cluster behind.
    const nginx = nginxRunning ? undefined : await ensureNginx(note);
    if (!nginxRunning && !(await portIsFree(plan.apiPort))) {
      throw new ServicesError(`Port ${plan.apiPort} (127.0.0.1) is taken by another program; choose another with --port.`);
    }
    const secrets = { gatewaySecret: await keptSecret(files.secret), keyEncryptionKey: await keptSecret(files.keyEncryptionKey) };
    const services = toStart.filter((planned) => planned.role !== 'gateway');
    if (services.length > 0) {
      await ensureDatabases(options.serverUrl, serviceRoles.map((role) => `${plan.databasePrefix}${role}`));
      if (plan.kafkaLocal) await ensureLocalKafka(files, note);
    }

    const waits: Promise<void>[] = [];
    for (const planned of toStart) {
      const logFile = files.logOf(planned.name);
      const offset = await logOffset(logFile);
      let exited = false;
      const pid = startDetached({
        command: process.execPath, args: ['src/cli.ts', 'start', '--role', planned.role], cwd: projectRoot, logFile,
        env: processEnvironment(planned, plan, options, files, secrets),
        onExit: () => { exited = true; },
      });
      await writePidFile(files.pidOf(planned.name), pid);
      note(`starting ${planned.name} (pid ${pid}, log ${displayPath(logFile)})`);
      waits.push(waitForHealthy({
        name: planned.name, port: planned.port, logFile, offset, timeoutMs: 180_000,
        isRunning: async () => !exited && await isOurProcess(pid, files.dir),
      }).then(() => { note(`${planned.name} is listening on http://127.0.0.1:${planned.port}`); }));
    }
    const results = await Promise.allSettled(waits);
    const failures = results.flatMap((result) => (result.status === 'rejected' ? [(result.reason as Error).message] : []));
    if (failures.length > 0) {
      throw new ServicesError(`${failures.join('\n\n')}\n\nWhat did start keeps running: \`orderstream services status\` shows it, \`orderstream services down\` stops it.`);
    }

    if (nginx !== undefined) await startNginx(nginx, files, plan, note);
    await waitForApi(plan.apiPort, 60_000);
    const rows = await statusRows(files, plan);
    printTable(print, files, plan, rows);
    return 0;
  });
}

/** The plan of the processes already running, else a new one from the options (ports chosen now). */
async function choosePlan(files: ServicesFiles, options: ServicesOptions): Promise<ServicesPlan> {
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

async function readPlan(files: ServicesFiles): Promise<ServicesPlan | undefined> {
  try {
    return JSON.parse(await readFile(files.plan, 'utf8')) as ServicesPlan;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ServicesError(`${files.plan} is unreadable (${(error as Error).message}); stop what runs by hand, delete the file and run up again.`);
  }
}

/** The names (processes and `nginx`) whose pid file names a live process of this folder. */
async function aliveProcesses(files: ServicesFiles, plan: ServicesPlan): Promise<Set<string>> {
  const alive = new Set<string>();
  for (const name of [...plan.processes.map((planned) => planned.name), 'nginx']) {
    const pid = await readPidFile(files.pidOf(name));
    if (pid !== undefined && await isOurProcess(pid, files.dir)) alive.add(name);
  }
  return alive;
}

/** The variables of one process: the caller's environment, then everything the shape needs. */
function processEnvironment(
  planned: PlannedProcess, plan: ServicesPlan, options: ServicesOptions, files: ServicesFiles,
  secrets: { gatewaySecret: string; keyEncryptionKey: string },
): NodeJS.ProcessEnv {
  const urlOf = (name: string) => {
    const found = plan.processes.find((candidate) => candidate.name === name);
    return `http://127.0.0.1:${found?.port ?? 0}`;
  };
  const apiUrl = `http://127.0.0.1:${plan.apiPort}`;
  const shared: NodeJS.ProcessEnv = {
    ...options.env,
    // The marker by which later commands recognise this process as one of this folder's.
    ORDERSTREAM_SERVICES_DIR: files.dir,
    HOST: '127.0.0.1', PORT: String(planned.port), OPS_HOST: '127.0.0.1', OPS_PORT: String(planned.opsPort),
    GATEWAY_SECRET: secrets.gatewaySecret,
    IDENTITY_KEY_ENCRYPTION_KEY: secrets.keyEncryptionKey,
    IDENTITY_ISSUER: options.env.IDENTITY_ISSUER ?? apiUrl,
    KAFKA_BROKERS: plan.kafkaBrokers, KAFKA_NAMESPACE: plan.kafkaNamespace,
    REDIS_URL: options.redisUrl, REDIS_KEY_PREFIX: plan.redisKeyPrefix,
    DOCUMENTS_DIR: options.env.DOCUMENTS_DIR ?? files.documents,
    EMAIL_OUTBOX_DIR: options.env.EMAIL_OUTBOX_DIR ?? files.mailOutbox,
    OTEL_SERVICE_NAME: options.env.OTEL_SERVICE_NAME ?? `orderstream-${planned.name}`,
  };
  if (planned.role === 'gateway') {
    const upstreams = serviceRoles.map((role) => `${role}=${urlOf(role)}`).join(';');
    // nginx, on loopback, is the proxy whose X-Forwarded-For names the client.
    return { ...shared, GATEWAY_UPSTREAMS: `${upstreams};docs=${urlOf('orders')}`, TRUST_PROXY: '127.0.0.1' };
  }
  return {
    ...shared,
    [databaseVariableOf(planned.role)]: databaseUrlOf(plan.serverUrl ?? options.serverUrl, plan.databasePrefix, planned.role),
    CATALOG_SERVICE_URL: urlOf('catalog'),
    INVENTORY_SERVICE_URL: urlOf('inventory'),
  };
}

/** A secret generated once (32 random bytes, base64) and kept in `file`, readable by its owner only. */
async function keptSecret(file: string): Promise<string> {
  try {
    const kept = (await readFile(file, 'utf8')).trim();
    if (kept !== '') return kept;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await writeFile(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
  return (await readFile(file, 'utf8')).trim();
}

/** Creates the databases that do not exist yet on the server. */
async function ensureDatabases(serverUrl: string, names: readonly string[]): Promise<void> {
  const { createDatabase } = await import('../src/platform/database/database.ts');
  const { sql } = await import('kysely');
  const admin = createDatabase({ url: serverUrl, poolSize: 1, applicationName: 'orderstream-services' });
  try {
    const existing = await sql<{ datname: string }>`select datname from pg_database where datname = any(${names})`.execute(admin).catch((error: unknown) => {
      throw new ServicesError(`PostgreSQL at ${redactedUrl(serverUrl)} does not answer (${(error as Error).message}); start it, or set DATABASE_URL to the server to use.`);
    });
    const have = new Set(existing.rows.map((row) => row.datname));
    for (const name of names.filter((candidate) => !have.has(candidate))) {
      await sql.raw(`create database "${name.replaceAll('"', '""')}"`).execute(admin).catch((error: unknown) => {
        // Created meanwhile by someone else: it exists, which is what we wanted.
        if ((error as { code?: string }).code !== '42P04') throw error;
      });
    }
  } finally {
    await admin.destroy();
  }
}

function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(DATABASE_URL)';
  }
}

/** The broker of infra/kafka/run.sh: used when it runs, else started (and remembered as ours, for `down`). */
async function ensureLocalKafka(files: ServicesFiles, note: (line: string) => void): Promise<void> {
  const script = path.join(projectRoot, 'infra/kafka/run.sh');
  if ((await runScript(script, ['status'], 'ignore')) === 0) return;
  note('starting the local Kafka broker (bash infra/kafka/run.sh start; the first time it fetches the jars, about a minute)');
  if ((await runScript(script, ['start'], 'inherit')) !== 0) {
    throw new ServicesError('The local Kafka broker did not start (its output is above); or set KAFKA_BROKERS to a running one.');
  }
  await writeFile(files.kafkaStarted, `started by orderstream services up at ${new Date().toISOString()}; services down stops it\n`);
}

async function runScript(script: string, args: readonly string[], output: 'ignore' | 'inherit'): Promise<number | null> {
  const child = spawn('bash', [script, ...args], {
    cwd: projectRoot,
    stdio: ['ignore', output === 'inherit' ? process.stderr : 'ignore', output === 'inherit' ? process.stderr : 'ignore'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
}

async function startNginx(nginx: string, files: ServicesFiles, plan: ServicesPlan, note: (line: string) => void): Promise<void> {
  const gateways = plan.processes.filter((planned) => planned.role === 'gateway').map((planned) => `127.0.0.1:${planned.port}`);
  try {
    await writeLocalNginxConfig(nginx, files.nginx, { port: plan.apiPort, gateways });
  } catch (error) {
    throw new ServicesError((error as Error).message);
  }
  const offset = await logOffset(files.nginx.errorLog);
  const child = { exited: false };
  const pid = startDetached({
    command: nginx, args: localNginxArguments(files.nginx), cwd: files.nginx.prefix, env: process.env, logFile: files.nginx.errorLog,
    onExit: () => { child.exited = true; },
  });
  await writePidFile(files.pidOf('nginx'), pid);
  note(`starting nginx (pid ${pid}, log ${displayPath(files.nginx.errorLog)}) on http://127.0.0.1:${plan.apiPort}`);
  const deadline = Date.now() + 15_000;
  while ((await httpStatus(plan.apiPort, '/nginx-health', 1000)) !== 200) {
    if (child.exited || !(await isOurProcess(pid, files.dir))) {
      throw new ServicesError(`nginx exited while starting; the end of ${files.nginx.errorLog}:\n${await tailOf(files.nginx.errorLog, 20, offset)}`);
    }
    if (Date.now() > deadline) throw new ServicesError(`nginx did not answer on port ${plan.apiPort} within 15 s; see ${files.nginx.errorLog}`);
    await sleep(100);
  }
}

/**
 * Waits until a started process answers `GET /healthz` on its port: asked over HTTP rather than
 * read from its log, whose "listening" line is not written at LOG_LEVEL=warn. Fails with the end
 * of its log when it exits first or does not answer within `timeoutMs`.
 */
async function waitForHealthy(options: { name: string; port: number; logFile: string; offset: number; timeoutMs: number; isRunning: () => Promise<boolean> }): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    if (await httpStatus(options.port, '/healthz', 1000) === 200) return;
    if (!(await options.isRunning())) {
      throw new Error(`${options.name} exited while starting; the end of ${options.logFile}:\n${await tailOf(options.logFile, 20, options.offset)}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`${options.name} did not start within ${Math.round(options.timeoutMs / 1000)} s; the end of ${options.logFile}:\n${await tailOf(options.logFile, 20, options.offset)}`);
    }
    await sleep(250);
  }
}

/**
 * Waits until GET /readyz through nginx answers 200 with status `ready`: a gateway answers 200
 * `degraded` while a service has no instance its probes found healthy yet, and `up` promises
 * every service. Three answers in a row, so that each gateway behind nginx has given one.
 */
async function waitForApi(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  let readyInARow = 0;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2000) });
      const body = await response.json().catch(() => undefined) as { status?: unknown } | undefined;
      const status = typeof body?.status === 'string' ? body.status : 'no status';
      if (response.status === 200 && status === 'ready') {
        readyInARow += 1;
        if (readyInARow === 3) return;
        continue;
      }
      last = `${String(response.status)} ${status}`;
    } catch {
      last = 'no answer';
    }
    readyInARow = 0;
    await sleep(250);
  }
  throw new ServicesError(`GET http://127.0.0.1:${port}/readyz through nginx did not answer 200 "ready" within ${Math.round(timeoutMs / 1000)} s (last: ${last}).`);
}

// ---------------------------------------------------------------------------------------------
// down

/**
 * Stops nginx, then the gateways, then the services (SIGTERM, SIGKILL after a timeout), and the local
 * broker if `up` started it. With `purge`, also deletes what the run left behind — its Kafka topics and
 * consumer groups (before a broker `up` started is stopped), its databases, then the folder — and
 * refuses (ServicesError) while any of its processes could not be stopped.
 */
export async function servicesDown(options: ServicesOptions): Promise<number> {
  const { print } = printer(options);
  const files = filesOf(path.resolve(options.dir));
  const plan = await readPlan(files);
  if (plan === undefined) {
    print(`Nothing was started in ${displayPath(files.dir)}${options.purge === true ? '; nothing to purge' : ''}.`);
    return 0;
  }
  return withLock(files, async () => {
    let failed = false;
    const stillRunning: string[] = [];
    const stopOne = async (name: string, graceMs: number) => {
      const pid = await readPidFile(files.pidOf(name));
      const outcome = pid === undefined ? 'not-running' : await stopProcess(pid, files.dir, { graceMs });
      if (outcome === 'still-running') {
        failed = true;
        stillRunning.push(`${name} (pid ${pid ?? '?'})`);
        print(`${name} (pid ${pid ?? '?'}) is still running after SIGKILL`);
        return;
      }
      await removePidFile(files.pidOf(name));
      print(outcome === 'not-running' ? `${name} was not running` : `stopped ${name} (pid ${pid ?? '?'}${outcome === 'killed' ? ', killed after the timeout' : ''})`);
    };
    // Front to back, so no request arrives at a process that is already gone.
    await stopOne('nginx', 10_000);
    const gateways = plan.processes.filter((planned) => planned.role === 'gateway');
    const services = plan.processes.filter((planned) => planned.role !== 'gateway');
    // A service finishes in-flight work within SHUTDOWN_TIMEOUT_MS (10 s by default) before exiting by itself.
    await Promise.all(gateways.map((planned) => stopOne(planned.name, 15_000)));
    await Promise.all(services.map((planned) => stopOne(planned.name, 15_000)));
    if (options.purge === true) {
      if (stillRunning.length > 0) {
        throw new ServicesError(`Not purged: ${stillRunning.join(', ')} still running after SIGKILL; stop it by hand, then run \`orderstream services down --purge\` again.`);
      }
      await purgeRunData(plan, options, print);
    }
    if (plan.kafkaLocal && await exists(files.kafkaStarted)) {
      print('stopping the local Kafka broker (services up started it)');
      if ((await runScript(path.join(projectRoot, 'infra/kafka/run.sh'), ['stop'], 'inherit')) === 0) await rm(files.kafkaStarted, { force: true });
      else failed = true;
    }
    if (options.purge === true) {
      // The folder remembers that `up` started the broker: kept, so that another `down` can stop it.
      if (failed) throw new ServicesError(`Not removing ${displayPath(files.dir)}: the local Kafka broker did not stop (its output is above); run \`orderstream services down --purge\` again.`);
      await removeServicesFolder(files, print);
    }
    return failed ? 1 : 0;
  });
}

/**
 * Deletes the Kafka topics and consumer groups of the run's namespace (and no other), then its
 * databases, printing one line per kind. Fails (ServicesError) at the first kind it cannot delete,
 * keeping the folder, so that running it again finds the plan and finishes the work.
 */
async function purgeRunData(plan: ServicesPlan, options: ServicesOptions, print: (line: string) => void): Promise<void> {
  const listed = (what: string, names: readonly string[]) => `removed ${names.length} ${what}${names.length === 1 ? '' : 's'}${names.length === 0 ? '' : `: ${names.join(', ')}`}`;
  const { deleteKafkaNamespace } = await import('../src/platform/messaging/kafka-namespace.ts');
  const brokers = plan.kafkaBrokers.split(',').filter((broker) => broker !== '');
  const kafka = await deleteKafkaNamespace({ brokers, namespace: plan.kafkaNamespace, clientId: 'orderstream-services-purge' }).catch((error: unknown) => {
    throw new ServicesError(`Could not delete the Kafka topics of namespace ${plan.kafkaNamespace} at ${plan.kafkaBrokers} (${firstLine(error)}); nothing else was removed: ${plan.kafkaLocal ? 'start it (bash infra/kafka/run.sh start)' : 'make the broker answer'}, then run \`orderstream services down --purge\` again.`);
  });
  print(listed('Kafka topic', kafka.topics));
  print(listed('Kafka consumer group', kafka.groups));
  const databases = await dropDatabases(plan.serverUrl ?? options.serverUrl, serviceRoles.map((role) => `${plan.databasePrefix}${role}`));
  print(listed('database', databases));
}

/** Drops those of `names` that exist on the server; resolves with them. Waits a little for sessions of just-stopped processes to end. */
async function dropDatabases(serverUrl: string, names: readonly string[]): Promise<string[]> {
  const { createDatabase } = await import('../src/platform/database/database.ts');
  const { sql } = await import('kysely');
  const admin = createDatabase({ url: serverUrl, poolSize: 1, applicationName: 'orderstream-services' });
  try {
    const existing = await sql<{ datname: string }>`select datname from pg_database where datname = any(${names}) order by datname`.execute(admin).catch((error: unknown) => {
      throw new ServicesError(`PostgreSQL at ${redactedUrl(serverUrl)} does not answer (${firstLine(error)}); start it, then run \`orderstream services down --purge\` again.`);
    });
    const dropped: string[] = [];
    for (const { datname: name } of existing.rows) {
      for (let attempt = 1; ; attempt += 1) {
        try {
          await sql.raw(`drop database if exists "${name.replaceAll('"', '""')}"`).execute(admin);
          break;
        } catch (error) {
          // 55006: still in use. A stopped service's sessions end a moment after it; another client's do not.
          if ((error as { code?: string }).code === '55006' && attempt < 40) {
            await sleep(250);
            continue;
          }
          throw new ServicesError(`Could not drop the database ${name} (${firstLine(error)}); close what still uses it, then run \`orderstream services down --purge\` again.`);
        }
      }
      dropped.push(name);
    }
    return dropped;
  } finally {
    await admin.destroy();
  }
}

/**
 * Removes what `up` and its processes put in the folder, then the folder itself when nothing else is
 * in it: `--dir` may name a folder that also holds someone's files, and those stay.
 */
async function removeServicesFolder(files: ServicesFiles, print: (line: string) => void): Promise<void> {
  const made = [files.plan, files.secret, files.keyEncryptionKey, files.kafkaStarted, files.logs, files.pids, files.nginx.prefix, files.documents, files.mailOutbox];
  for (const entry of made) await rm(entry, { recursive: true, force: true });
  await rm(files.lock, { force: true });
  try {
    await rmdir(files.dir);
    print(`removed the folder ${displayPath(files.dir)}`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOTEMPTY' && (error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const left = await readdir(files.dir);
    print(`removed what services up made in ${displayPath(files.dir)}, but kept the folder: it also holds ${left.join(', ')}`);
  }
}

function firstLine(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
}

// ---------------------------------------------------------------------------------------------
// status

/** Prints each process's state; exit code 0 only when every one runs and is ready. */
export async function servicesStatus(options: ServicesOptions): Promise<number> {
  const { print } = printer(options);
  const files = filesOf(path.resolve(options.dir));
  const plan = await readPlan(files);
  if (plan === undefined) {
    print(`Nothing was started in ${displayPath(files.dir)} (orderstream services up starts it).`);
    return 1;
  }
  const rows = await statusRows(files, plan);
  printTable(print, files, plan, rows);
  return rows.every((row) => row.state === 'ready' || row.state === 'reachable') ? 0 : 1;
}

interface StatusRow {
  name: string;
  pid: string;
  state: 'ready' | 'not ready' | 'stopped' | 'reachable' | 'unreachable';
  url: string;
  metrics: string;
}

async function statusRows(files: ServicesFiles, plan: ServicesPlan): Promise<StatusRow[]> {
  const rowOf = async (name: string, url: string, probe: () => Promise<number | undefined>, metrics: string): Promise<StatusRow> => {
    const pid = await readPidFile(files.pidOf(name));
    const running = pid !== undefined && await isOurProcess(pid, files.dir);
    if (!running) return { name, pid: '-', state: 'stopped', url, metrics };
    return { name, pid: String(pid), state: (await probe()) === 200 ? 'ready' : 'not ready', url, metrics };
  };
  const rows = await Promise.all([
    rowOf('nginx', `http://127.0.0.1:${plan.apiPort}`, () => httpStatus(plan.apiPort, '/nginx-health', 2000), '-'),
    ...plan.processes.map((planned) => rowOf(
      planned.name, `http://127.0.0.1:${planned.port}`, () => httpStatus(planned.opsPort, '/readyz', 3000), `http://127.0.0.1:${planned.opsPort}/metrics`,
    )),
  ]);
  const reachable = (await Promise.all(plan.kafkaBrokers.split(',').map((broker) => tcpReachable(broker, 2000)))).some(Boolean);
  const startedHere = plan.kafkaLocal && await exists(files.kafkaStarted);
  rows.push({
    name: 'kafka', pid: '-', state: reachable ? 'reachable' : 'unreachable', url: plan.kafkaBrokers,
    metrics: startedHere ? '(started by services up)' : plan.kafkaLocal ? '(infra/kafka/run.sh, not started by up)' : '(KAFKA_BROKERS)',
  });
  return rows;
}

function printTable(print: (line: string) => void, files: ServicesFiles, plan: ServicesPlan, rows: readonly StatusRow[]): void {
  const lines = [['name', 'pid', 'state', 'url', 'metrics'], ...rows.map((row) => [row.name, row.pid, row.state, row.url, row.metrics])];
  const widths = [0, 1, 2, 3].map((column) => Math.max(...lines.map((cells) => (cells[column] ?? '').length)));
  for (const cells of lines) {
    print(cells.map((cell, column) => (column === 1 ? cell.padStart(widths[column] ?? 0) : cell.padEnd(widths[column] ?? 0))).join('  ').trimEnd());
  }
  print('');
  print(`API: http://127.0.0.1:${plan.apiPort}`);
  print(`Logs: ${displayPath(files.logs)}/<name>.log; databases ${plan.databasePrefix}<service>; Kafka topics ${plan.kafkaNamespace}.*`);
}

// ---------------------------------------------------------------------------------------------
// for admin commands

/** What `seed`, `users grant-admin` and `keys rotate` need of the services shape `up` planned in a folder. */
export interface ServicesShape {
  /** The services folder, relative to the working directory when inside it (for messages). */
  dir: string;
  /** True when at least one of its processes runs (the test by which `up` keeps a plan). */
  running: boolean;
  /** nginx, in front of the gateways: the API as clients reach it. */
  apiUrl: string;
  /** The database of one service. */
  databaseUrlOf: (role: ServiceRole) => string;
  /** The key that encrypts the signing keys in identity's database, as every process was given it. */
  keyEncryptionKey: () => Promise<string>;
  /** Processes of the plan (and nginx) that are not running. */
  stopped: string[];
  /** The prefix of the Redis keys the processes share (token revocations, rate limits). */
  redisKeyPrefix?: string;
}

/**
 * The services shape planned in `dir`, or undefined when `up` never ran there. `fallbackServerUrl`
 * serves plans written before the database server was recorded in them.
 */
export async function findServicesShape(dir: string, fallbackServerUrl: string): Promise<ServicesShape | undefined> {
  const files = filesOf(path.resolve(dir));
  const plan = await readPlan(files);
  if (plan === undefined) return undefined;
  const alive = await aliveProcesses(files, plan);
  const serverUrl = plan.serverUrl ?? fallbackServerUrl;
  return {
    dir: displayPath(files.dir),
    running: alive.size > 0,
    apiUrl: `http://127.0.0.1:${plan.apiPort}`,
    databaseUrlOf: (role) => databaseUrlOf(serverUrl, plan.databasePrefix, role),
    keyEncryptionKey: async () => {
      const key = (await readFile(files.keyEncryptionKey, 'utf8').catch(() => '')).trim();
      if (key === '') throw new ServicesError(`${displayPath(files.keyEncryptionKey)} is missing or empty: the signing keys in ${plan.databasePrefix}identity cannot be read without it.`);
      return key;
    },
    stopped: [...plan.processes.map((planned) => planned.name), 'nginx'].filter((name) => !alive.has(name)),
    redisKeyPrefix: plan.redisKeyPrefix,
  };
}

function databaseUrlOf(serverUrl: string, databasePrefix: string, role: ServiceRole): string {
  const database = new URL(serverUrl);
  database.pathname = `/${databasePrefix}${role}`;
  return database.toString();
}

// ---------------------------------------------------------------------------------------------
// small helpers

/** One `up` or `down` at a time per folder: the lock file names the pid that holds it. */
async function withLock<T>(files: ServicesFiles, work: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      const handle = await open(files.lock, 'wx');
      await handle.write(`${process.pid}\n`);
      await handle.close();
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
      const holder = await readPidFile(files.lock);
      if (holder !== undefined && processExists(holder)) {
        throw new ServicesError(`Another \`orderstream services\` command (pid ${holder}) is working on ${displayPath(files.dir)}; wait for it to finish.`);
      }
      await rm(files.lock, { force: true });
    }
  }
  try {
    return await work();
  } finally {
    await rm(files.lock, { force: true });
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function exists(file: string): Promise<boolean> {
  return readFile(file).then(() => true, () => false);
}

/** `preferred` when it is free on loopback and not already planned, else a port the system picks. */
async function pickPort(preferred: number, taken: Set<number>): Promise<number> {
  let port = !taken.has(preferred) && preferred > 0 && await portIsFree(preferred) ? preferred : 0;
  while (port === 0 || taken.has(port)) port = await systemPort();
  taken.add(port);
  return port;
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => { resolve(false); });
    server.listen(port, '127.0.0.1', () => { server.close(() => { resolve(true); }); });
  });
}

function systemPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => { resolve(typeof address === 'object' && address !== null ? address.port : 0); });
    });
  });
}

/** The status code of GET http://127.0.0.1:`port``path`, or undefined without an answer in time. */
async function httpStatus(port: number, urlPath: string, timeoutMs: number): Promise<number | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}${urlPath}`, { signal: AbortSignal.timeout(timeoutMs) });
    await response.body?.cancel();
    return response.status;
  } catch {
    return undefined;
  }
}

function tcpReachable(hostPort: string, timeoutMs: number): Promise<boolean> {
  const separator = hostPort.lastIndexOf(':');
  const host = hostPort.slice(0, separator);
  const port = Number(hostPort.slice(separator + 1));
  return new Promise((resolve) => {
    const socket = createConnection({ host, port, timeout: timeoutMs });
    const done = (reachable: boolean) => { socket.destroy(); resolve(reachable); };
    socket.once('connect', () => { done(true); });
    socket.once('timeout', () => { done(false); });
    socket.once('error', () => { done(false); });
  });
}

/** `file` relative to the working directory when it is inside it (shorter in messages). */
function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}
