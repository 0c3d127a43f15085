/**
 * `npm run generate:client`: starts OrderStream from this checkout (single process, a throw-away
 * embedded PostgreSQL), reads its /openapi.json, and writes the document's snapshot
 * (packages/client/openapi.json) and the types generated from it (packages/client/src/openapi-types.ts).
 * openapi-drift.test.ts fails when the running app's document no longer equals the snapshot.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generatedTypes, snapshotText } from './openapi-snapshot.ts';

const packageDir = path.resolve(import.meta.dirname, '..');
const repositoryRoot = path.resolve(packageDir, '../..');

/** A port nothing listens on now, for the child process to take. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve); });
  const address = server.address();
  await new Promise<void>((resolve) => { server.close(() => { resolve(); }); });
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Starts `orderstream start` in a temporary folder and answers its /openapi.json. */
async function servedDocument(): Promise<unknown> {
  const folder = await mkdtemp(path.join(tmpdir(), 'orderstream-openapi-'));
  const port = await freePort();
  const child = spawn(process.execPath, ['bin/orderstream.js', 'start'], {
    cwd: repositoryRoot, stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env, DATABASE_URL: '', LOG_LEVEL: 'warn', HOST: '127.0.0.1', PORT: String(port), OPS_PORT: '0',
      EMBEDDED_POSTGRES_DIR: path.join(folder, 'postgres'), DOCUMENTS_DIR: path.join(folder, 'documents'),
      EMAIL_OUTBOX_DIR: path.join(folder, 'mail'), IDENTITY_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
    },
  });
  try {
    const deadline = Date.now() + 120_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`orderstream start exited with ${String(child.exitCode)}`);
      const response = await fetch(`http://127.0.0.1:${port}/openapi.json`).catch(() => undefined);
      if (response?.ok === true) return await response.json();
      if (Date.now() > deadline) throw new Error('orderstream did not serve /openapi.json within 120 s');
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  } finally {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited.catch(() => undefined);
    await rm(folder, { recursive: true, force: true });
  }
}

const snapshot = snapshotText(await servedDocument());
await writeFile(path.join(packageDir, 'openapi.json'), snapshot);
await writeFile(path.join(packageDir, 'src/openapi-types.ts'), await generatedTypes(snapshot));
console.log('wrote packages/client/openapi.json and packages/client/src/openapi-types.ts');
