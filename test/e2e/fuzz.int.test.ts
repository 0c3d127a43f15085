import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadConfig } from '../../src/platform/config/config.ts';
import { createLogger } from '../../src/platform/logging/logger.ts';
import type { MessageTransport } from '../../src/platform/messaging/index.ts';
import { createTestDatabase, embeddedServerUrl } from '../../src/platform/testing/test-database.ts';
import { createSingleProcess, type SingleProcess } from '../../src/apps/single-process.ts';
import { countRows, createResponseChecker, fuzzOperation, operationsOf, reportFindings, type FuzzRequest, type OpenApiDocument } from './harness/openapi-fuzz.ts';
import { accessOf, callersFor, fuzzHints, mayChange, seedKnownData, type FuzzTokens, type KnownData } from './harness/openapi-fuzz-hints.ts';

// Every operation the single process documents at /openapi.json, fuzzed from its own schemas with
// real tokens for a customer, an admin and a service client. Background work runs (pg-boss must,
// for imports to be queued), but messages are held rather than delivered and job workers do not run
// (role `api`), so nothing changes rows between two requests but the requests themselves: the row
// counts read before and after a refused request are its doing alone.
//
// Each operation first gets the sweep: its valid request with one place (a body field at any depth,
// a path or query parameter, a cursor) set to one of a few of the most dangerous values, one request
// each, the same on every run, so single-field bugs that random draws would rarely hit are found
// every time. Then random cases, bounded for CI by a fixed seed and 100 cases per operation. FUZZ_RUNS
// and FUZZ_SEED change them (FUZZ_RUNS=0 leaves the sweep alone), FUZZ_OPERATION (`POST /v1/orders`)
// runs one operation, FUZZ_PATH with FUZZ_SEED replays (and shrinks) one random case,
// FUZZ_SWEEP_CASE with FUZZ_SEED replays one sweep case, and FUZZ_VERBOSE=1 prints every exchange.
// Every case runs even after a failure, so one run lists each distinct finding once, with its replay
// command.

const numRuns = Number(process.env.FUZZ_RUNS ?? 100);
const seed = Number(process.env.FUZZ_SEED ?? 20_260_101);
const replayPath = process.env.FUZZ_PATH;
const replaySweepCase = process.env.FUZZ_SWEEP_CASE === undefined ? undefined : Number(process.env.FUZZ_SWEEP_CASE);
const onlyOperation = process.env.FUZZ_OPERATION;

/** Takes every message and delivers none: the saga and the notifications never start, so they change no rows mid-run. */
class HoldingTransport implements MessageTransport {
  publish(): Promise<void> {
    return Promise.resolve();
  }

  subscribe(): void {
    // No consumer ever receives anything.
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

describe('every route fuzzed from its own schema, in the single process', () => {
  let orderstream: SingleProcess;
  let database: { drop: () => Promise<void> };
  let files: string;
  let document: OpenApiDocument;
  let known: KnownData;
  let tokens: FuzzTokens;
  const send = async (request: FuzzRequest) => {
    const response = await orderstream.app.inject({
      method: request.method as 'GET', url: request.url, headers: request.headers, ...(request.payload === undefined ? {} : { payload: request.payload }),
    });
    return { statusCode: response.statusCode, headers: response.headers, body: response.body };
  };

  before(async () => {
    const created = await createTestDatabase(embeddedServerUrl(), []);
    await created.db.destroy();
    database = created;
    files = await mkdtemp(path.join(tmpdir(), 'orderstream-fuzz-'));
    const config = loadConfig({
      LOG_LEVEL: 'silent', DEV_IDENTITY_HEADERS: 'false', DOCUMENTS_DIR: files, EMAIL_TRANSPORT: 'file', EMAIL_OUTBOX_DIR: files,
      RATE_LIMIT_BURST: '1000000', RATE_LIMIT_PER_SECOND: '1000000', AUTH_RATE_LIMIT_BURST: '1000000', AUTH_RATE_LIMIT_PER_SECOND: '1000000',
      LOGIN_FAILURES_BEFORE_DELAY: '1000', LOGIN_ADDRESS_BUDGET: '1000000', LOGIN_ACCOUNT_FAILURES_BEFORE_DELAY: '1000000',
      SAGA_STEP_TIMEOUT_MS: '3600000', WEBHOOK_ALLOWED_NETWORKS: '127.0.0.0/8',
    });
    orderstream = await createSingleProcess({
      config, logger: createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }), databaseUrl: created.url,
      keyEncryptionKey: randomBytes(32).toString('base64'), transport: new HoldingTransport(), role: 'api',
    });
    await orderstream.start();
    const { admin } = await orderstream.identity.seedDemoUsers();
    const signIn = async (email: string, password: string) => {
      const response = await send({ method: 'POST', url: '/v1/auth/login', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ email, password }) });
      assert.equal(response.statusCode, 200, response.body);
      return JSON.parse(response.body) as { accessToken: string; refreshToken: string };
    };
    const customer = { email: 'fuzz-customer@example.com', password: 'a long enough passphrase for fuzzing' };
    const registered = await send({ method: 'POST', url: '/v1/auth/register', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(customer) });
    assert.equal(registered.statusCode, 202, registered.body);
    const session = await signIn(customer.email, customer.password);
    const service = await orderstream.identity.createServiceClient('fuzz');
    const serviceToken = await send({
      method: 'POST', url: '/v1/auth/token', headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ grant_type: 'client_credentials', client_id: service.clientId, client_secret: service.clientSecret }),
    });
    assert.equal(serviceToken.statusCode, 200, serviceToken.body);
    tokens = { admin: (await signIn(admin.email, admin.password)).accessToken, customer: session.accessToken, service: (JSON.parse(serviceToken.body) as { access_token: string }).access_token };
    known = await seedKnownData(send, tokens, { ...customer, refreshToken: session.refreshToken }, { clientId: service.clientId, clientSecret: service.clientSecret });
    const served = await send({ method: 'GET', url: '/openapi.json', headers: {} });
    assert.equal(served.statusCode, 200);
    document = JSON.parse(served.body) as OpenApiDocument;
  });

  after(async () => {
    await orderstream.close();
    await database.drop();
    await rm(files, { recursive: true, force: true });
  });

  test('when every documented operation is sent valid and broken requests as the right caller, the wrong one and nobody, then none answers 5xx, every refusal is problem+json and changes no row, and every success matches its declared schema', { timeout: 60_000 + numRuns * 5_000 }, async (t) => {
    const operations = operationsOf(document).filter((operation) => onlyOperation === undefined || operation.key === onlyOperation);
    assert.ok(operations.length > 0, `no operation ${onlyOperation ?? ''} in the document`);
    const check = createResponseChecker(document);
    const hints = fuzzHints(known);
    const callersOf = callersFor(tokens, known.refreshToken);
    const target = { send, rowCounts: () => countRows(orderstream.db) };
    for (const operation of operations) {
      await t.test(`when ${operation.key} is fuzzed, then every invariant holds`, { timeout: 30_000 + numRuns * 1_000 }, async () => {
        const found = await fuzzOperation({
          operation, document, hints, access: accessOf(operation), callers: callersOf(accessOf(operation)), target, check, numRuns, seed,
          mayChange, sweep: true, ...(replayPath === undefined ? {} : { path: replayPath }), ...(replaySweepCase === undefined ? {} : { sweepCase: replaySweepCase }),
        });
        assert.equal(found.length, 0, `${operation.key}: ${found.length} distinct findings\n${reportFindings(found, 'test/e2e/fuzz.int.test.ts')}`);
      });
    }
  });
});
