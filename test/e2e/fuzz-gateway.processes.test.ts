import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import type { Database } from '../../src/platform/database/database.ts';
import { createTestDatabase, embeddedServerUrl } from '../../src/platform/testing/test-database.ts';
import { freePort, OrderStreamProcess } from './harness/orderstream-process.ts';
import {
  changedTables, countRows, createResponseChecker, fuzzOperation, operationsOf, reportFindings,
  type FuzzRequest, type FuzzResponse, type OpenApiDocument,
} from './harness/openapi-fuzz.ts';
import { accessOf, callersFor, fuzzHints, mayChange, seedKnownData, type FuzzTokens, type KnownData } from './harness/openapi-fuzz-hints.ts';

// The same fuzzing as fuzz.int.test.ts, through the services shape's edge as real processes: a
// gateway (`--role gateway`) in front of the API (`--role api`, trusting only the gateway's
// signature), over real HTTP, so what the gateway parses, checks and forwards is fuzzed too.
// Messages are delivered here (an accepted order runs its saga), so after every accepted change the
// test waits until the row counts stop moving before it reads the baseline of the next request.
// No service client can be made from outside the process, so `other` callers of customer routes
// present the customer's refresh token instead (see callersFor).
//
// A smaller budget than the single process (FUZZ_GATEWAY_RUNS, default 20); FUZZ_SEED,
// FUZZ_OPERATION and FUZZ_PATH work as there.

const numRuns = Number(process.env.FUZZ_GATEWAY_RUNS ?? 20);
const seed = Number(process.env.FUZZ_SEED ?? 20_260_101);
const replayPath = process.env.FUZZ_PATH;
const onlyOperation = process.env.FUZZ_OPERATION;

/** One request over real HTTP, its path sent byte for byte as generated (percent-encoding errors included). */
function sendOverHttp(baseUrl: URL, request: FuzzRequest): Promise<FuzzResponse> {
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({
      host: baseUrl.hostname, port: baseUrl.port, method: request.method, path: request.url,
      headers: { ...request.headers, ...(request.payload === undefined ? {} : { 'content-length': String(Buffer.byteLength(request.payload)) }) },
    }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => { resolve({ statusCode: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }); });
      response.on('error', reject);
    });
    outgoing.setTimeout(30_000, () => outgoing.destroy(new Error(`no answer to ${request.method} ${request.url.slice(0, 100)} within 30 s`)));
    outgoing.on('error', reject);
    outgoing.end(request.payload);
  });
}

/** Waits until two readings of the row counts, 300 ms apart, agree (at most `timeoutMs`). */
async function untilQuiet(db: Database, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let previous = await countRows(db);
  while (Date.now() < deadline) {
    await sleep(300);
    const current = await countRows(db);
    if (changedTables(previous, current).length === 0) return;
    previous = current;
  }
}

describe('every route fuzzed from its own schema, through the gateway of the services shape', () => {
  let database: { url: string; db: Database; drop: () => Promise<void> };
  let files: string;
  let api: OrderStreamProcess;
  let gateway: OrderStreamProcess;
  let baseUrl: URL;
  let document: OpenApiDocument;
  let known: KnownData;
  let tokens: FuzzTokens;
  const send = (request: FuzzRequest) => sendOverHttp(baseUrl, request);

  before(async () => {
    database = await createTestDatabase(embeddedServerUrl(), []);
    files = await mkdtemp(path.join(tmpdir(), 'orderstream-fuzz-gateway-'));
    const shared = {
      LOG_LEVEL: 'info', HOST: '127.0.0.1', GATEWAY_SECRET: randomBytes(32).toString('base64'),
      RATE_LIMIT_BURST: '1000000', RATE_LIMIT_PER_SECOND: '1000000', AUTH_RATE_LIMIT_BURST: '1000000', AUTH_RATE_LIMIT_PER_SECOND: '1000000',
    };
    const apiPort = await freePort();
    api = new OrderStreamProcess('api', ['--role', 'api'], {
      ...shared, PORT: String(apiPort), DATABASE_URL: database.url, DOCUMENTS_DIR: files, EMAIL_TRANSPORT: 'file', EMAIL_OUTBOX_DIR: files,
      IDENTITY_KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64'), LOGIN_FAILURES_BEFORE_DELAY: '1000', LOGIN_ADDRESS_BUDGET: '1000000',
      LOGIN_ACCOUNT_FAILURES_BEFORE_DELAY: '1000000', SAGA_STEP_TIMEOUT_MS: '3600000',
      // Failed webhook and message deliveries are retried only after the run, not between two requests.
      WEBHOOK_ALLOWED_NETWORKS: '127.0.0.0/8', MESSAGE_RETRY_BASE_MS: '600000', NOTIFICATION_RETRY_BASE_MS: '600000',
    });
    const gatewayPort = await freePort();
    gateway = new OrderStreamProcess('gateway', ['--role', 'gateway'], { ...shared, PORT: String(gatewayPort), GATEWAY_UPSTREAMS: `*=http://127.0.0.1:${apiPort}` });
    await api.start(60_000);
    await gateway.start(60_000);
    baseUrl = new URL(`http://127.0.0.1:${gatewayPort}`);

    const json = (method: string, url: string, body: unknown) => send({ method, url, headers: { 'content-type': 'application/json' }, payload: JSON.stringify(body) });
    const signIn = async (email: string, password: string) => {
      const response = await json('POST', '/v1/auth/login', { email, password });
      assert.equal(response.statusCode, 200, response.body);
      return JSON.parse(response.body) as { accessToken: string; refreshToken: string };
    };
    const customer = { email: 'fuzz-customer@example.com', password: 'a long enough passphrase for fuzzing' };
    const admin = { email: 'fuzz-admin@example.com', password: 'a long enough passphrase for the admin' };
    for (const account of [customer, admin]) assert.equal((await json('POST', '/v1/auth/register', account)).statusCode, 202);
    await sql`update identity.users set roles = array['customer', 'admin'] where email = ${admin.email}`.execute(database.db);
    const session = await signIn(customer.email, customer.password);
    tokens = { customer: session.accessToken, admin: (await signIn(admin.email, admin.password)).accessToken, service: undefined };
    known = await seedKnownData(send, tokens, { ...customer, refreshToken: session.refreshToken }, undefined);
    const served = await send({ method: 'GET', url: '/openapi.json', headers: {} });
    assert.equal(served.statusCode, 200, served.body);
    document = JSON.parse(served.body) as OpenApiDocument;
    await untilQuiet(database.db);
  });

  after(async () => {
    await gateway.stop('SIGKILL');
    await api.stop('SIGKILL');
    await database.drop();
    await rm(files, { recursive: true, force: true });
  });

  test('when every documented operation is sent valid and broken requests through the gateway as the right caller, the wrong one and nobody, then none answers 5xx, every refusal is problem+json and changes no row, and every success matches its declared schema', { timeout: 120_000 + numRuns * 10_000 }, async (t) => {
    const operations = operationsOf(document).filter((operation) => onlyOperation === undefined || operation.key === onlyOperation);
    assert.ok(operations.length > 0, `no operation ${onlyOperation ?? ''} in the document`);
    const check = createResponseChecker(document);
    const hints = fuzzHints(known);
    const callersOf = callersFor(tokens, known.refreshToken);
    const target = { send, rowCounts: () => countRows(database.db), settle: () => untilQuiet(database.db) };
    for (const operation of operations) {
      await t.test(`when ${operation.key} is fuzzed through the gateway, then every invariant holds`, { timeout: 60_000 + numRuns * 5_000 }, async () => {
        const found = await fuzzOperation({
          operation, document, hints, access: accessOf(operation), callers: callersOf(accessOf(operation)), target, check, numRuns, seed,
          mayChange, ...(replayPath === undefined ? {} : { path: replayPath }),
        });
        assert.equal(found.length, 0, `${operation.key}: ${found.length} distinct findings\n${reportFindings(found, 'test/e2e/fuzz-gateway.processes.test.ts')}`);
      });
    }
  });
});
