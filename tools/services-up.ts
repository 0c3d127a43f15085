import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isOurProcess, logOffset, sleep, startDetached, tailOf, writePidFile } from './background-process.ts';
import { httpStatus, portIsFree } from './local-network.ts';
import { ensureNginx, localNginxArguments, writeLocalNginxConfig } from './local-nginx.ts';
import { ensureDatabases } from './services-databases.ts';
import { displayPath, filesOf, withLock, type ServicesFiles } from './services-folder.ts';
import { ensureLocalKafka } from './services-kafka.ts';
import { printer, ServicesError, type ServicesOptions } from './services-options.ts';
import {
  aliveProcesses, choosePlan, databaseUrlOf, serviceRoles, type PlannedProcess, type ServicesPlan,
} from './services-plan.ts';
import { printTable, statusRows } from './services-status.ts';
import { databaseVariableOf } from '../src/apps/module-registry.ts';
import { serverNodeFlags } from '../src/cli/server-node-flags.ts';

const projectRoot = path.resolve(import.meta.dirname, '..');

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
        command: process.execPath, args: [...serverNodeFlags, 'src/cli.ts', 'start', '--role', planned.role], cwd: projectRoot, logFile,
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
    ORDERS_SERVICE_URL: urlOf('orders'),
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
