import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { createLogger } from '../logging/logger.ts';
import { startEmbeddedPostgres, type EmbeddedPostgresServer } from './embedded-postgres.ts';

const logger = createLogger({ level: 'silent' });
const projectRoot = path.resolve(import.meta.dirname, '../../..');
const isRoot = userInfo().uid === 0;

let workDir: string;
const running = new Set<EmbeddedPostgresServer>();
/** Servers this file left running outside its own process (orphans); shut down in `after` whatever happened. */
const strayPostmasters = new Set<number>();
const ownerProcesses = new Set<ChildProcess>();

before(async () => {
  // Not under the project: a checkout in a private folder (CI clones under /root) would send every
  // server to the fallback folder, and these tests assert where the data goes.
  workDir = path.join('/var/tmp/orderstream-tests', `tmp-${randomBytes(6).toString('hex')}`);
  await mkdir(workDir, { recursive: true, mode: 0o755 });
  await chmod(path.dirname(workDir), 0o755);
});

after(async () => {
  for (const server of running) await server.stop();
  for (const owner of ownerProcesses) owner.kill('SIGKILL');
  for (const pid of strayPostmasters) {
    if (isRunning(pid)) process.kill(pid, 'SIGINT');
    await waitUntil(() => !isRunning(pid), `postgres ${pid} to stop`);
  }
  await rm(workDir, { recursive: true, force: true });
});

/** Starts a server that `after` stops should the test fail before it does. */
async function start(dataDir: string): Promise<EmbeddedPostgresServer> {
  const server = await startEmbeddedPostgres({ dataDir, logger });
  running.add(server);
  return server;
}

async function stop(server: EmbeddedPostgresServer): Promise<void> {
  await server.stop();
  running.delete(server);
}

async function query(url: string, text: string): Promise<Record<string, unknown>[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text)).rows as Record<string, unknown>[];
  } finally {
    await client.end();
  }
}

async function postmasterPid(dataDir: string): Promise<number> {
  return Number.parseInt((await readFile(path.join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0] ?? '', 10);
}

/** Alive and not a zombie (nothing reaps orphans on some machines, so a dead one can linger as a zombie). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return !/^\d+ \(.*\) [ZX]/s.test(readStatLine(pid));
}

function readStatLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return '';
  }
}

async function waitUntil(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('startEmbeddedPostgres', () => {
  test('when started twice on one folder, then the first start initialises and the second reuses its data and credentials', async () => {
    const dataDir = path.join(workDir, 'reuse');
    const first = await start(dataDir);
    assert.equal(first.dataDir, dataDir);
    assert.ok(existsSync(path.join(dataDir, 'PG_VERSION')), 'the first start initialises the folder');
    const credentialsFile = `${dataDir}.credentials.json`;
    const credentials = await readFile(credentialsFile, 'utf8');
    await query(first.url, "create table survivor (name text); insert into survivor values ('kept')");
    await stop(first);

    const second = await start(dataDir);
    try {
      assert.deepEqual(await query(second.url, 'select name from survivor'), [{ name: 'kept' }]);
      assert.equal(await readFile(credentialsFile, 'utf8'), credentials);
      assert.equal(new URL(second.url).password, new URL(first.url).password);
    } finally {
      await stop(second);
    }
  });

  test('when the server was killed with SIGKILL, then the next start clears its stale lock and starts', async () => {
    const dataDir = path.join(workDir, 'killed');
    const first = await start(dataDir);
    const pid = await postmasterPid(dataDir);
    process.kill(pid, 'SIGKILL');
    await waitUntil(() => !isRunning(pid), 'the killed postgres to go');
    await stop(first);
    assert.ok(existsSync(path.join(dataDir, 'postmaster.pid')), 'a hard kill leaves the lock behind');

    const second = await start(dataDir);
    try {
      assert.deepEqual(await query(second.url, 'select 1 as one'), [{ one: 1 }]);
      assert.notEqual(await postmasterPid(dataDir), pid);
    } finally {
      await stop(second);
    }
  });

  test('when the node process that owned the server was killed, then the next start shuts the orphan down and starts', async () => {
    const dataDir = path.join(workDir, 'orphan');
    const owner = spawnOwner(dataDir);
    const { pid, port } = await owner.started;
    owner.child.kill('SIGKILL');
    await new Promise((resolve) => owner.child.once('exit', resolve));
    assert.ok(isRunning(pid), 'the orphaned postgres outlives its node process');

    const server = await start(dataDir);
    try {
      assert.ok(!isRunning(pid), 'the orphan was shut down');
      assert.deepEqual(await query(server.url, 'select 1 as one'), [{ one: 1 }]);
      assert.notEqual(await postmasterPid(dataDir), pid);
      assert.ok(port > 0);
    } finally {
      await stop(server);
    }
  });

  test('when the lock names a live postgres of another folder (a reused pid), then that server is left alone and the start succeeds', async () => {
    const bystander = await start(path.join(workDir, 'bystander'));
    const dataDir = path.join(workDir, 'reused-pid');
    try {
      const own = await start(dataDir);
      await stop(own);
      const bystanderPid = await postmasterPid(bystander.dataDir);
      await writeFile(path.join(dataDir, 'postmaster.pid'), `${bystanderPid}\n${dataDir}\n`);

      const server = await start(dataDir);
      try {
        assert.ok(isRunning(bystanderPid), 'the other folder\'s server is still running');
        assert.deepEqual(await query(bystander.url, 'select 1 as one'), [{ one: 1 }]);
        assert.deepEqual(await query(server.url, 'select 1 as one'), [{ one: 1 }]);
      } finally {
        await stop(server);
      }
    } finally {
      await stop(bystander);
    }
  });

  test('when the folder holds other files, then the start is refused with a clear error and nothing is deleted', async () => {
    const dataDir = path.join(workDir, 'not-a-database');
    await mkdir(dataDir);
    await writeFile(path.join(dataDir, 'notes.txt'), 'precious');

    await assert.rejects(start(dataDir), (error: Error) => {
      assert.match(error.message, /is not empty and is not a PostgreSQL data folder/);
      assert.ok(error.message.includes(dataDir));
      return true;
    });
    assert.deepEqual(await readdir(dataDir), ['notes.txt']);
    assert.equal(await readFile(path.join(dataDir, 'notes.txt'), 'utf8'), 'precious');
  });

  test('when the folder sits under one the postgres user cannot enter, then a folder it can reach is used and reported', async (context) => {
    if (!isRoot) {
      context.skip('only root runs the server as the postgres user, so only root can meet an unreachable folder');
      return;
    }
    const privateDir = path.join(workDir, 'private');
    await mkdir(privateDir, { mode: 0o700 });
    const requested = path.join(privateDir, 'postgres');
    const fallbackRoot = path.join('/var/tmp/orderstream', createHash('sha256').update(requested).digest('hex').slice(0, 12));
    try {
      const server = await start(requested);
      try {
        assert.equal(server.dataDir, path.join(fallbackRoot, 'postgres'));
        assert.ok(existsSync(path.join(server.dataDir, 'PG_VERSION')));
        assert.ok(!existsSync(path.join(requested, 'PG_VERSION')));
        assert.deepEqual(await query(server.url, 'select 1 as one'), [{ one: 1 }]);
      } finally {
        await stop(server);
      }
    } finally {
      await rm(fallbackRoot, { recursive: true, force: true });
    }
  });

  test('when its parent folders are created under a private umask, then the postgres user can still reach the folder', async (context) => {
    if (!isRoot) {
      context.skip('only root runs the server as another user that the new folders must let through');
      return;
    }
    const dataDir = path.join(workDir, 'made', 'by', 'us', 'postgres');
    const previous = process.umask(0o077);
    let server: EmbeddedPostgresServer;
    try {
      server = await start(dataDir);
    } finally {
      process.umask(previous);
    }
    try {
      assert.equal(server.dataDir, dataDir);
      assert.deepEqual(await query(server.url, 'select 1 as one'), [{ one: 1 }]);
    } finally {
      await stop(server);
    }
  });
});

/** A separate node process that starts a server on `dataDir`, prints its postmaster's pid and port, and waits to be killed. */
function spawnOwner(dataDir: string) {
  const script = `
    import { readFileSync } from 'node:fs';
    import { startEmbeddedPostgres } from ${JSON.stringify(new URL('./embedded-postgres.ts', import.meta.url).href)};
    import { createLogger } from ${JSON.stringify(new URL('../logging/logger.ts', import.meta.url).href)};
    const dataDir = ${JSON.stringify(dataDir)};
    const server = await startEmbeddedPostgres({ dataDir, logger: createLogger({ level: 'silent' }) });
    const pid = Number.parseInt(readFileSync(dataDir + '/postmaster.pid', 'utf8').split('\\n')[0], 10);
    console.log(JSON.stringify({ pid, port: server.port }));
    setInterval(() => {}, 60_000);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '--eval', script], { cwd: projectRoot, stdio: ['ignore', 'pipe', 'pipe'] });
  ownerProcesses.add(child);
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8'); });
  const started = new Promise<{ pid: number; port: number }>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      const line = stdout.split('\n').find((candidate) => candidate.startsWith('{'));
      if (line === undefined) return;
      const started = JSON.parse(line) as { pid: number; port: number };
      strayPostmasters.add(started.pid);
      resolve(started);
    });
    child.once('exit', (code) => { reject(new Error(`the owner process exited (${code}) before starting postgres:\n${stderr}`)); });
  });
  return { child, started };
}
