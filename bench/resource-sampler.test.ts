import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { ResourceSampler } from './resource-sampler.ts';

/**
 * A Node.js process that, once told on its standard input, keeps a core busy until it has used
 * `cpuMs` of CPU time (however long a loaded machine makes that take), says so, then idles.
 */
async function busyProcess(cpuMs: number): Promise<ChildProcess & { pid: number }> {
  const script = `process.stdout.write('ready'); process.stdin.once('data', () => {
    const started = process.cpuUsage();
    while ((process.cpuUsage(started).user + process.cpuUsage(started).system) / 1000 < ${cpuMs});
    process.stdout.write('done');
  }); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'ignore'] });
  await once(child.stdout, 'data');
  if (child.pid === undefined) throw new Error('the busy process did not start');
  return child as ChildProcess & { pid: number };
}

test('when OrderStream runs in other processes, then app sums their CPU and each is kept apart, other processes included', { skip: process.platform !== 'linux' && 'reads /proc' }, async () => {
  const worker = await busyProcess(400);
  const idle = await busyProcess(0);
  try {
    const sampler = new ResourceSampler({ appProcesses: [{ name: 'worker', pid: worker.pid }], otherProcesses: [{ name: 'idle', pid: idle.pid }], intervalMs: 50 });
    sampler.start();
    const done = once(worker.stdout ?? worker, 'data');
    worker.stdin?.write('go\n');
    await done;
    await new Promise((resolve) => setTimeout(resolve, 200)); // a few more samples
    const usage = sampler.stop();

    assert.ok(usage.processes !== null);
    const { worker: workerUsage, idle: idleUsage } = usage.processes;
    assert.ok(workerUsage !== undefined && idleUsage !== undefined);
    assert.ok(workerUsage.cpuSeconds >= 0.35, `the busy process used ${workerUsage.cpuSeconds} s`);
    assert.equal(usage.app.cpuSeconds, workerUsage.cpuSeconds, 'app is the OrderStream processes only');
    assert.ok(idleUsage.cpuSeconds < workerUsage.cpuSeconds / 2, `the idle process used ${idleUsage.cpuSeconds} s`);
    assert.ok(workerUsage.peakRssMb > 0 && usage.app.peakRssMb >= workerUsage.peakRssMb && idleUsage.peakRssMb > 0);
  } finally {
    worker.kill('SIGKILL');
    idle.kill('SIGKILL');
  }
});

test('when OrderStream is one process (the single shape), then app is that process alone and there is no per-process breakdown', { skip: process.platform !== 'linux' && 'reads /proc' }, async () => {
  const orderstream = await busyProcess(300);
  try {
    const sampler = new ResourceSampler({ appProcesses: [{ name: 'orderstream', pid: orderstream.pid }], intervalMs: 50 });
    sampler.start();
    const done = once(orderstream.stdout ?? orderstream, 'data');
    orderstream.stdin?.write('go\n');
    await done;
    const usage = sampler.stop();

    assert.equal(usage.processes, null);
    // This process only waited meanwhile: app's CPU is the busy child's.
    assert.ok(usage.app.cpuSeconds >= 0.25, `the busy process used ${usage.app.cpuSeconds} s`);
    assert.ok(usage.app.peakRssMb > 0);
  } finally {
    orderstream.kill('SIGKILL');
  }
});

test('when no OrderStream process is given (a ceiling the harness runs itself), then app is this process and there is no per-process breakdown', () => {
  const sampler = new ResourceSampler({});
  sampler.start();
  const usage = sampler.stop();

  assert.equal(usage.processes, null);
  assert.ok(usage.app.peakRssMb > 0);
});
