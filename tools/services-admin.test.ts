import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chooseAdminTarget, ShapeNotRunningError } from './services-admin.ts';

describe('chooseAdminTarget', () => {
  let root: string;
  let stoppedServices: string;
  const serverUrl = 'postgres://postgres@127.0.0.1:5432/postgres';

  before(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'orderstream-admin-target-'));
    // A plan `services up` wrote, with no pid file left: every process of it is stopped.
    stoppedServices = path.join(root, 'stopped');
    await mkdir(stoppedServices);
    await writeFile(path.join(stoppedServices, 'services.json'), JSON.stringify({
      apiPort: 8080, databasePrefix: 'orderstream_', serverUrl, kafkaBrokers: '127.0.0.1:19092', kafkaLocal: true, kafkaNamespace: 'orderstream', redisKeyPrefix: 'orderstream:',
      processes: [{ name: 'identity', role: 'identity', port: 8101, opsPort: 9101 }],
    }));
  });

  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test('when no services folder exists and no shape is asked for, then the single process is chosen', async () => {
    const target = await chooseAdminTarget({ shape: undefined, dir: path.join(root, 'absent'), serverUrl, singleRunning: () => Promise.resolve(false) });
    assert.deepEqual(target, { shape: 'single' });
  });

  test('when the services shape is asked for and nothing of it runs, then it says to start it', async () => {
    for (const dir of [path.join(root, 'absent'), stoppedServices]) {
      await assert.rejects(
        chooseAdminTarget({ shape: 'services', dir, serverUrl, singleRunning: () => Promise.resolve(true) }),
        (error: unknown) => error instanceof ShapeNotRunningError && /not running in .*: start it with `npm run services`/.test(error.message),
      );
    }
  });

  test('when the services are all stopped and no single process runs either, then it refuses to guess and names both starts', async () => {
    await assert.rejects(
      chooseAdminTarget({ shape: undefined, dir: stoppedServices, serverUrl, singleRunning: () => Promise.resolve(false) }),
      (error: unknown) => error instanceof ShapeNotRunningError && /^Neither shape is running: start `npm start` .* or `npm run services`/.test(error.message),
    );
  });

  test('when the services are all stopped but the single process runs, or it is asked for, then the single process is chosen', async () => {
    assert.deepEqual(await chooseAdminTarget({ shape: undefined, dir: stoppedServices, serverUrl, singleRunning: () => Promise.resolve(true) }), { shape: 'single' });
    assert.deepEqual(await chooseAdminTarget({ shape: 'single', dir: stoppedServices, serverUrl, singleRunning: () => Promise.resolve(false) }), { shape: 'single' });
  });
});
