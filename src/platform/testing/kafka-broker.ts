import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A Kafka broker of a test's own: infra/kafka/run.sh on free ports with a temporary instance folder,
 * on the jars the script has already fetched. A test that stops, kills or restarts a broker, or
 * deletes topics by name, uses one of these, never the broker KAFKA_BROKERS names: others use that one.
 */
export interface OwnKafkaBroker {
  /** `127.0.0.1:<port>`, as KAFKA_BROKERS takes it. */
  readonly brokers: string;
  /** Stops it cleanly (run.sh stop); its data stays for `start`. */
  stop(): Promise<void>;
  /** Starts it again on the same ports and data; resolves once it answers metadata requests. */
  start(): Promise<void>;
  /** Kills it and deletes its folder; safe to call more than once. */
  remove(): Promise<void>;
}

const projectRoot = path.resolve(import.meta.dirname, '../../..');
const script = path.join(projectRoot, 'infra/kafka/run.sh');

/**
 * Whether this machine can start a broker of its own, as requireService says it for a service: a
 * skip reason without Java or the jars (`infra/kafka/run.sh start` fetches them once), or a thrown
 * error instead under REQUIRE_SERVICES=1 (CI), so the tests are never skipped unnoticed there.
 */
export function requireOwnKafkaBroker(): { skip: false } | { skip: string } {
  const cache = process.env.ORDERSTREAM_KAFKA_HOME ?? path.join(homedir(), '.cache/orderstream-kafka');
  const missing = spawnSync('bash', ['-c', 'command -v java'], { stdio: 'ignore' }).status !== 0
    ? 'java is not installed'
    : existsSync(path.join(cache, 'libs/.pom-sha256')) ? undefined : `the Kafka jars are not in ${cache} yet (run infra/kafka/run.sh start once)`;
  if (missing === undefined) return { skip: false };
  if (process.env.REQUIRE_SERVICES === '1') throw new Error(`A Kafka broker of the test's own is required (REQUIRE_SERVICES=1), but ${missing}`);
  return { skip: `no Kafka broker of the test's own: ${missing}` };
}

/** Starts a broker on free loopback ports in a new temporary folder; resolves once it is ready. */
export async function startOwnKafkaBroker(): Promise<OwnKafkaBroker> {
  const folder = await mkdtemp(path.join(tmpdir(), 'orderstream-kafka-'));
  const port = await freeBrokerPort();
  const controllerPort = await freeBrokerPort(port);
  const env = {
    ...process.env,
    ORDERSTREAM_KAFKA_INSTANCE_DIR: folder,
    ORDERSTREAM_KAFKA_PORT: String(port),
    ORDERSTREAM_KAFKA_CONTROLLER_PORT: String(controllerPort),
  };
  // The broker runs in a session of its own, so it would outlive a test process that ends without
  // its `after` hooks (a timeout, --test-force-exit): the last thing this process does is kill it.
  const killOnExit = () => {
    killBroker(folder);
    try {
      rmSync(folder, { recursive: true, force: true, maxRetries: 3 });
    } catch {
      // a file the dying broker was still writing: a leftover in the temporary folder, nothing more
    }
  };
  process.once('exit', killOnExit);
  let removed: Promise<void> | undefined;
  const broker: OwnKafkaBroker = {
    brokers: `127.0.0.1:${String(port)}`,
    stop: () => runScript('stop', env),
    start: () => runScript('start', env),
    remove: () => {
      removed ??= (async () => {
        process.removeListener('exit', killOnExit);
        const pid = killBroker(folder);
        for (let waited = 0; pid !== undefined && existsSync(`/proc/${String(pid)}`) && waited < 10_000; waited += 50) await sleep(50);
        await rm(folder, { recursive: true, force: true });
      })();
      return removed;
    },
  };
  try {
    await broker.start();
  } catch (error) {
    await broker.remove();
    throw error;
  }
  return broker;
}

/** SIGKILLs the broker of `folder`, when its pid file names a live process that is that broker. */
function killBroker(folder: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(path.join(folder, 'kafka.pid'), 'utf8').trim());
    if (!Number.isInteger(pid)) return undefined;
    const commandLine = readFileSync(`/proc/${String(pid)}/cmdline`, 'utf8').replaceAll('\0', ' ');
    if (!commandLine.includes(`kafka.Kafka ${path.join(folder, 'server.properties')}`)) return undefined;
    process.kill(pid, 'SIGKILL');
    return pid;
  } catch {
    return undefined; // never started, or already gone
  }
}

async function runScript(action: 'start' | 'stop', env: NodeJS.ProcessEnv): Promise<void> {
  const child = spawn('bash', [script, action], { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString('utf8'); });
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString('utf8'); });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`infra/kafka/run.sh ${action} exited with ${String(code)}:\n${output}`);
}

/**
 * A free loopback port below Linux's ephemeral range (32768 and up), so no outgoing connection takes
 * it in the seconds before the broker listens, and outside the 20000-32000 that the process tests'
 * freePort hands out.
 */
async function freeBrokerPort(except?: number): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt += 1) {
    const port = 12_000 + Math.floor(Math.random() * 8_000);
    if (port === except || port === 19_092 || port === 19_093) continue;
    const server = createServer();
    try {
      server.listen(port, '127.0.0.1');
      await once(server, 'listening');
      return port;
    } catch {
      // taken: try another
    } finally {
      server.close();
    }
  }
  throw new Error('no free port found between 12000 and 20000');
}
