import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ServicesFiles } from './services-folder.ts';
import { ServicesError } from './services-options.ts';

/** The local Kafka broker of infra/kafka/run.sh, which `up` may start and `down` then stops. */

const projectRoot = path.resolve(import.meta.dirname, '..');

/** The broker of infra/kafka/run.sh: used when it runs, else started (and remembered as ours, for `down`). */
export async function ensureLocalKafka(files: ServicesFiles, note: (line: string) => void): Promise<void> {
  const script = path.join(projectRoot, 'infra/kafka/run.sh');
  if ((await runScript(script, ['status'], 'ignore')) === 0) return;
  note('starting the local Kafka broker (bash infra/kafka/run.sh start; the first time it fetches the jars, about a minute)');
  if ((await runScript(script, ['start'], 'inherit')) !== 0) {
    throw new ServicesError('The local Kafka broker did not start (its output is above); or set KAFKA_BROKERS to a running one.');
  }
  await writeFile(files.kafkaStarted, `started by orderstream services up at ${new Date().toISOString()}; services down stops it\n`);
}

export async function runScript(script: string, args: readonly string[], output: 'ignore' | 'inherit'): Promise<number | null> {
  const child = spawn('bash', [script, ...args], {
    cwd: projectRoot,
    stdio: ['ignore', output === 'inherit' ? process.stderr : 'ignore', output === 'inherit' ? process.stderr : 'ignore'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
}
