import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { readPidFile } from '../tools/background-process.ts';
import { ensureNginx, localNginxArguments, localNginxFiles, writeLocalNginxConfig } from '../tools/local-nginx.ts';
import { serviceRoles, type ServiceRole } from '../src/apps/services.ts';
import { ensureDatabase } from '../src/apps/single-process.ts';
import { freeLoopbackPort, startLogged, stopChild, waitForReady, type StartedProcess } from './child-processes.ts';
import type { WatchedProcess } from './resource-sampler.ts';
import { serverNodeFlags } from '../src/cli/server-node-flags.ts';

/**
 * The services shape as the benchmark runs it: the layout of `orderstream services up`
 * (tools/services-runner.ts) — nginx in front of two gateways, one process per service role,
 * each on a database of its own, Kafka between them — but as child processes of the benchmark at
 * LOG_LEVEL=warn, so that their CPU and memory can be sampled and none outlives the run (the
 * runner's processes are detached, to outlive the command). Readiness is asked of each process's
 * `/readyz`.
 */

const projectRoot = path.resolve(import.meta.dirname, '..');
const gatewayNames = ['gateway-1', 'gateway-2'] as const;
const startTimeoutMs = 180_000;

/** The services shape, started and ready behind nginx. */
export interface RunningServicesShape {
  /** nginx's address, where the API answers. */
  apiUrl: string;
  /** OrderStream's processes (the gateways, then the services), by name and pid. */
  orderstream: WatchedProcess[];
  /** nginx (its master; the workers are its children) and the Kafka broker when it is the local one. */
  others: WatchedProcess[];
  kafkaBrokers: string;
  /** Stops nginx, then the gateways, then the services (SIGTERM, SIGKILL after 15 s), then the local broker if this started it. */
  stop(): Promise<void>;
}

/** Where and how the services shape is started. */
interface ServicesShapeOptions {
  dir: string;
  serverUrl: string;
  databasePrefix: string;
  kafkaBrokers: string | undefined;
  redisUrl: string;
  /** Kafka topics and groups, and Redis keys, are prefixed with it. */
  namespace: string;
  /** What every process reads besides the shape's own variables. */
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
}

/**
 * Starts the services shape: the databases `<databasePrefix><role>` on `serverUrl`, Kafka at
 * `kafkaBrokers` (unset: the local broker of infra/kafka/run.sh, started when it is not running),
 * every process with `env` and its own address, OPS_PORT=0, database and upstreams; resolves once
 * each process and then nginx answer `/readyz`. Logs and nginx's files go to `dir`.
 */
export async function startServicesShapeProcesses(options: ServicesShapeOptions): Promise<RunningServicesShape> {
  const { log } = options;
  const logs = path.join(options.dir, 'logs');
  await mkdir(logs, { recursive: true });
  // Before anything starts: a missing nginx should not leave half a shape behind.
  const nginx = await ensureNginx(log);
  const kafka = await ensureKafka(options.kafkaBrokers, log);
  const started: StartedProcess[] = [];
  // Should the benchmark exit without stopping them (a Ctrl-C while starting), they must not outlive it.
  const killOnExit = () => {
    for (const one of started) if (one.child.exitCode === null && one.child.signalCode === null) one.child.kill('SIGKILL');
  };
  process.on('exit', killOnExit);
  const stop = async () => {
    process.removeListener('exit', killOnExit);
    for (const group of [['nginx'], [...gatewayNames], [...serviceRoles]]) {
      await Promise.all(started.filter((one) => group.includes(one.name)).map((one) => stopChild(one.child)));
    }
    if (kafka.startedHere) {
      log('stopping the local Kafka broker (the benchmark started it)');
      await runKafkaScript('stop', 'inherit');
    }
  };
  try {
    const taken = new Set<number>();
    const apiPort = await freeLoopbackPort(taken);
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    const ports = new Map<string, number>();
    for (const name of [...gatewayNames, ...serviceRoles]) ports.set(name, await freeLoopbackPort(taken));
    const urlOf = (name: string) => `http://127.0.0.1:${ports.get(name) ?? 0}`;
    const environments = await processEnvironments(options, { kafkaBrokers: kafka.brokers, apiUrl, ports, urlOf });
    log(`starting ${gatewayNames.length} gateways and ${serviceRoles.length} services (logs in ${logs})`);
    for (const [name, env] of environments) {
      const role = name.startsWith('gateway') ? 'gateway' : name;
      started.push(startLogged(name, process.execPath, [...serverNodeFlags, 'src/cli.ts', 'start', '--role', role], { cwd: projectRoot, env }, logs));
    }
    await Promise.all(started.map((one) => waitForReady(one, `${urlOf(one.name)}/readyz`, startTimeoutMs)));

    const files = localNginxFiles(options.dir);
    await writeLocalNginxConfig(nginx, files, { port: apiPort, gateways: gatewayNames.map((gateway) => `127.0.0.1:${ports.get(gateway) ?? 0}`) });
    const proxy = startLogged('nginx', nginx, localNginxArguments(files), { cwd: files.prefix, env: process.env }, logs);
    started.push(proxy);
    await waitForReady(proxy, `${apiUrl}/nginx-health`, 15_000);
    await waitForReady(proxy, `${apiUrl}/readyz`, 60_000);
    log(`the services shape answers at ${apiUrl}`);

    const watched = (name: string): WatchedProcess => {
      const pid = started.find((one) => one.name === name)?.child.pid;
      if (pid === undefined) throw new Error(`${name} has no pid`);
      return { name, pid };
    };
    const kafkaPid = await localKafkaBrokerPid(kafka.brokers);
    if (kafkaPid === undefined) log(`the Kafka broker at ${kafka.brokers} is not infra/kafka/run.sh's: its CPU and memory are not measured`);
    return {
      apiUrl,
      orderstream: [...gatewayNames, ...serviceRoles].map(watched),
      others: [watched('nginx'), ...(kafkaPid === undefined ? [] : [{ name: 'kafka', pid: kafkaPid }])],
      kafkaBrokers: kafka.brokers,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * Every process's environment, by name: what they share (the shape's secrets, the issuer, Kafka and
 * Redis), then each service's own port, database and neighbours, and each gateway's port and upstreams.
 */
async function processEnvironments(options: ServicesShapeOptions, shape: {
  kafkaBrokers: string; apiUrl: string; ports: ReadonlyMap<string, number>; urlOf: (name: string) => string;
}): Promise<Map<string, NodeJS.ProcessEnv>> {
  const { kafkaBrokers, apiUrl, ports, urlOf } = shape;
  const shared: NodeJS.ProcessEnv = {
    ...options.env,
    HOST: '127.0.0.1', OPS_HOST: '127.0.0.1', OPS_PORT: '0',
    GATEWAY_SECRET: randomBytes(32).toString('base64'),
    IDENTITY_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    IDENTITY_ISSUER: apiUrl,
    KAFKA_BROKERS: kafkaBrokers, KAFKA_NAMESPACE: options.namespace,
    REDIS_URL: options.redisUrl, REDIS_KEY_PREFIX: `${options.namespace}:`,
  };
  const environments = new Map<string, NodeJS.ProcessEnv>();
  for (const role of serviceRoles) {
    environments.set(role, {
      ...shared, PORT: String(ports.get(role) ?? 0), OTEL_SERVICE_NAME: options.env.OTEL_SERVICE_NAME ?? `orderstream-${role}`,
      [`${role.toUpperCase()}_DATABASE_URL`]: await ensureDatabase(options.serverUrl, `${options.databasePrefix}${role}`),
      CATALOG_SERVICE_URL: urlOf('catalog'), INVENTORY_SERVICE_URL: urlOf('inventory'), ORDERS_SERVICE_URL: urlOf('orders'),
    });
  }
  const upstreams = serviceRoles.map((role: ServiceRole) => `${role}=${urlOf(role)}`).join(';');
  for (const gateway of gatewayNames) {
    environments.set(gateway, {
      ...shared, PORT: String(ports.get(gateway) ?? 0), OTEL_SERVICE_NAME: options.env.OTEL_SERVICE_NAME ?? `orderstream-${gateway}`,
      // nginx, on loopback, is the proxy whose X-Forwarded-For names the client.
      GATEWAY_UPSTREAMS: `${upstreams};docs=${urlOf('orders')}`, TRUST_PROXY: '127.0.0.1',
    });
  }
  return environments;
}

/** The brokers to use: the given ones, else the local broker of infra/kafka/run.sh, started when it is not running. */
async function ensureKafka(brokers: string | undefined, log: (line: string) => void): Promise<{ brokers: string; startedHere: boolean }> {
  if (brokers !== undefined) return { brokers, startedHere: false };
  const local = `127.0.0.1:${process.env.ORDERSTREAM_KAFKA_PORT ?? '19092'}`;
  if ((await runKafkaScript('status', 'ignore')) === 0) return { brokers: local, startedHere: false };
  log('starting the local Kafka broker (bash infra/kafka/run.sh start; the first time it fetches the jars, about a minute)');
  if ((await runKafkaScript('start', 'inherit')) !== 0) throw new Error('The local Kafka broker did not start (its output is above); or set KAFKA_BROKERS to a running one.');
  return { brokers: local, startedHere: true };
}

async function runKafkaScript(action: 'status' | 'start' | 'stop', output: 'ignore' | 'inherit'): Promise<number | null> {
  const child = spawn('bash', [path.join(projectRoot, 'infra/kafka/run.sh'), action], {
    cwd: projectRoot,
    stdio: ['ignore', output === 'inherit' ? process.stderr : 'ignore', output === 'inherit' ? process.stderr : 'ignore'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
}

/**
 * The pid of the broker infra/kafka/run.sh started, when `brokers` is that broker (on loopback, at
 * its port): read from the script's pid file, as `run.sh status` does, and checked to be Kafka.
 */
async function localKafkaBrokerPid(brokers: string): Promise<number | undefined> {
  const port = process.env.ORDERSTREAM_KAFKA_PORT ?? '19092';
  const local = brokers.split(',').every((broker) => [`127.0.0.1:${port}`, `localhost:${port}`].includes(broker.trim()));
  if (!local) return undefined;
  const home = process.env.ORDERSTREAM_KAFKA_HOME ?? path.join(homedir(), '.cache/orderstream-kafka');
  const pid = await readPidFile(path.join(home, 'kafka.pid')).catch(() => undefined);
  if (pid === undefined) return undefined;
  const commandLine = await readFile(`/proc/${pid}/cmdline`, 'latin1').catch(() => '');
  return commandLine.includes('kafka.Kafka') ? pid : undefined;
}
