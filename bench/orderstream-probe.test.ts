import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { test } from 'node:test';
import { embeddedServerUrl } from '../src/platform/testing/test-database.ts';
import { OrderStreamProbe } from './orderstream-probe.ts';

const projectRoot = path.resolve(import.meta.dirname, '..');
const preload = path.join(import.meta.dirname, 'orderstream-probe-preload.ts');
const ignoredApplication = 'probe-test-observer';

/**
 * A process standing in for OrderStream's, with the preload: on each line of its standard input
 * it sends a statement on its own, then a transaction, then one statement on a connection named
 * `ignoredApplication`, and writes `done`.
 */
function probedProcess(): { child: ChildProcess; next: (text: string) => Promise<void> } {
  const script = `import pg from 'pg';
    const url = process.env.PROBE_TEST_DATABASE_URL;
    const client = new pg.Client({ connectionString: url });
    const observer = new pg.Client({ connectionString: url, application_name: '${ignoredApplication}' });
    await client.connect();
    await observer.connect();
    process.stdin.on('data', async () => {
      await client.query('select $1::int as n', [7]);
      await client.query('begin');
      await client.query('select now() as at');
      await client.query('commit');
      await observer.query('select 1');
      process.stdout.write('done\\n');
    });
    process.stdout.write('ready\\n');`;
  const child = spawn(process.execPath, ['--import', preload, '--input-type=module', '-e', script], {
    cwd: projectRoot, env: { ...process.env, PROBE_TEST_DATABASE_URL: embeddedServerUrl() },
    stdio: ['pipe', 'pipe', 'inherit', 'ipc'], serialization: 'advanced',
  });
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => { output += chunk; });
  const seen = async (text: string) => {
    while (!output.includes(`${text}\n`)) {
      if (child.exitCode !== null) throw new Error(`the probed process exited (${child.exitCode}) before writing ${text}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    output = output.replace(`${text}\n`, '');
  };
  return {
    child,
    next: async (text) => {
      if (text !== 'ready') child.stdin?.write('go\n');
      await seen(text);
    },
  };
}

test('when the harness asks the probe inside a process, then it records and counts the statements that process sends, answers included, and watches its memory', async () => {
  const { child, next } = probedProcess();
  const probe = new OrderStreamProbe(child);
  try {
    await next('ready');

    await probe.startCapture(ignoredApplication);
    await next('done');
    const units = await probe.stopCapture();
    assert.deepEqual(units.map((unit) => ({ transaction: unit.transaction, outcome: unit.outcome, texts: unit.statements.map((statement) => statement.text) })), [
      { transaction: false, outcome: 'commit', texts: ['select $1::int as n'] },
      { transaction: true, outcome: 'commit', texts: ['begin', 'select now() as at', 'commit'] },
    ]);
    assert.deepEqual(units[0]?.statements[0]?.rows, [{ n: 7 }]);
    assert.ok(units[1]?.statements[1]?.rows[0]?.at instanceof Date, 'a timestamp crosses the channel as a Date, as the replay needs it');

    const counting = await probe.startCounting(ignoredApplication);
    await next('done');
    await next('done');
    assert.deepEqual(await counting.read(), { statements: 4, roundTrips: 8 });
    await counting.stop();

    const memory = await probe.watchMemory();
    await next('done');
    const atPeak = await memory.stop();
    assert.ok(memory.atStart.rssMb > 0 && atPeak.rssMb >= memory.atStart.rssMb * 0.9, `${JSON.stringify(memory.atStart)} then ${JSON.stringify(atPeak)}`);
    assert.ok(atPeak.heapUsedMb > 0 && atPeak.heapUsedMb <= atPeak.heapTotalMb);
    assert.equal(await memory.stop(), atPeak, 'a second stop answers the first one\'s figures');
  } finally {
    child.kill('SIGKILL');
    if (child.exitCode === null && child.signalCode === null) await once(child, 'exit');
  }
});

test('when the probed process is gone, then asking it fails at once and stopping a count does not fail', async () => {
  const { child, next } = probedProcess();
  const probe = new OrderStreamProbe(child);
  await next('ready');
  const counting = await probe.startCounting(ignoredApplication);
  child.kill('SIGKILL');
  await once(child, 'exit');

  await assert.rejects(probe.startCapture(ignoredApplication), /OrderStream's process is gone/);
  await assert.rejects(counting.read(), /OrderStream's process is gone/);
  await counting.stop();
});
