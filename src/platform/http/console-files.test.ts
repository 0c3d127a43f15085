import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '../logging/logger.ts';
import { createHttpApp, type HttpApp } from './app.ts';
import { consoleContentSecurityPolicy, consoleRoutes } from './console-files.ts';

let folder: string;
let built: HttpApp;
let unbuilt: HttpApp;

const index = '<!doctype html><html><head><script type="module" src="/console/assets/index-abc123.js"></script></head><body></body></html>';

before(async () => {
  folder = await mkdtemp(path.join(tmpdir(), 'console-files-'));
  await mkdir(path.join(folder, 'dist', 'assets'), { recursive: true });
  await writeFile(path.join(folder, 'dist', 'index.html'), index);
  await writeFile(path.join(folder, 'dist', 'assets', 'index-abc123.js'), 'console.log("hello");');
  await writeFile(path.join(folder, 'dist', 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  await writeFile(path.join(folder, 'secret.txt'), 'outside the build');
  const app = (distDir: string) => createHttpApp({ logger: createLogger({ level: 'silent' }), bodyLimit: 1024, routes: [consoleRoutes(distDir)], readiness: [], securityHeaders: true });
  built = app(path.join(folder, 'dist'));
  unbuilt = app(path.join(folder, 'missing'));
  await Promise.all([built.ready(), unbuilt.ready()]);
});
after(async () => {
  await Promise.all([built.close(), unbuilt.close()]);
  await rm(folder, { recursive: true, force: true });
});

describe('the console files at /console', () => {
  test('when /console or one of the page\'s own routes is asked for, then index.html comes back uncached with the strict content policy', async () => {
    for (const url of ['/console', '/console/', '/console/products', '/console/imports/job_1']) {
      const response = await built.inject({ method: 'GET', url });
      assert.equal(response.statusCode, 200, url);
      assert.equal(response.body, index);
      assert.match(String(response.headers['content-type']), /^text\/html/);
      assert.equal(response.headers['cache-control'], 'no-cache');
      assert.equal(response.headers['content-security-policy'], consoleContentSecurityPolicy);
      assert.equal(response.headers['x-content-type-options'], 'nosniff');
    }
  });

  test('when a hashed asset is asked for, then it comes back with its type and cached for a year; another file is revalidated', async () => {
    const asset = await built.inject({ method: 'GET', url: '/console/assets/index-abc123.js' });
    assert.equal(asset.statusCode, 200);
    assert.equal(asset.body, 'console.log("hello");');
    assert.match(String(asset.headers['content-type']), /^text\/javascript/);
    assert.equal(asset.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(asset.headers['x-content-type-options'], 'nosniff');
    const icon = await built.inject({ method: 'GET', url: '/console/favicon.svg' });
    assert.equal(icon.headers['content-type'], 'image/svg+xml');
    assert.equal(icon.headers['cache-control'], 'no-cache');
  });

  test('when a file that is not there is asked for, then 404 problem+json, and a path out of the build never reads outside it', async () => {
    const missing = await built.inject({ method: 'GET', url: '/console/assets/gone-0000.js' });
    assert.equal(missing.statusCode, 404);
    assert.match(String(missing.headers['content-type']), /^application\/problem\+json/);
    for (const url of ['/console/%2e%2e/secret.txt', '/console/..%2fsecret.txt', '/console/assets/..%2f..%2fsecret.txt']) {
      const response = await built.inject({ method: 'GET', url });
      assert.doesNotMatch(response.body, /outside the build/, url);
    }
  });

  test('when the console is not built, then 503 problem+json saying how to build it', async () => {
    for (const url of ['/console', '/console/products', '/console/assets/index-abc123.js']) {
      const response = await unbuilt.inject({ method: 'GET', url });
      assert.equal(response.statusCode, 503, url);
      assert.match(String(response.headers['content-type']), /^application\/problem\+json/);
      const problem = response.json<{ type: string; detail: string }>();
      assert.equal(problem.type, 'https://orderstream.dev/problems/console-not-built');
      assert.match(problem.detail, /npm run build:console/);
    }
  });
});
