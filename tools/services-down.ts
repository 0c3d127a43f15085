import { readdir, rm, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { readPidFile, removePidFile, stopProcess } from './background-process.ts';
import { dropDatabases, firstLine } from './services-databases.ts';
import { displayPath, exists, filesOf, withLock, type ServicesFiles } from './services-folder.ts';
import { runScript } from './services-kafka.ts';
import { printer, ServicesError, type ServicesOptions } from './services-options.ts';
import { readPlan, serviceRoles, type ServicesPlan } from './services-plan.ts';

const projectRoot = path.resolve(import.meta.dirname, '..');

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
