import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { withTotal, type ScenarioResult } from './bench-result.ts';
import { sampled, settle, warmedUp, type ScenarioContext } from './scenario-context.ts';
import { httpErrors, loadData, loadDetails, plan } from './scenario-load.ts';
import { round } from './statistics.ts';

/** `GET /v1/products/{id}` through the edge with a customer's JWT, ids spread over the catalogue. */
export async function catalogRead(context: ScenarioContext): Promise<ScenarioResult> {
  const { value: result, resources } = await warmedUp(context, 'catalog-read', plan(context, [{ kind: 'catalog-read', weight: 1 }], loadData(context.target)));
  return {
    name: 'catalog-read', kind: 'scenario', metric: 'req/s', throughput: round(result.ok / result.durationSeconds), latencyMs: result.latencyMs, ratio: null, databaseLoad: null,
    errors: withTotal({ ...httpErrors(result), unfinishedOrders: 0, cancelledOrders: 0, failedReplays: 0 }),
    durationSeconds: round(result.durationSeconds), warmUpSeconds: context.warmUpSeconds, connections: context.connections, resources, details: loadDetails(result),
  };
}

/**
 * The HTTP ceiling: a bare `node:http` server in the harness's process answering the product's JSON
 * byte for byte, under the same load as catalog-read; its `app` resources are that process's.
 */
export async function httpCeiling(context: ScenarioContext): Promise<ScenarioResult> {
  const body = context.target.productBody;
  const server = createServer((request, response) => {
    request.resume();
    response.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) }).end(body);
  });
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve); });
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const { value: result, resources } = await warmedUp(context, 'http-ceiling', plan(context, [{ kind: 'catalog-read', weight: 1 }], loadData(context.target), { url }), 'harness');
    return {
      name: 'http-ceiling', kind: 'ceiling', metric: 'req/s', throughput: round(result.ok / result.durationSeconds), latencyMs: result.latencyMs, ratio: null, databaseLoad: null,
      errors: withTotal({ ...httpErrors(result), unfinishedOrders: 0, cancelledOrders: 0, failedReplays: 0 }),
      durationSeconds: round(result.durationSeconds), warmUpSeconds: context.warmUpSeconds, connections: context.connections, resources,
      details: { ...loadDetails(result), bodyBytes: Buffer.byteLength(body) },
    };
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

/** Connections signing in at once in the login storm: far more sign-ins than there are cores to hash them on. */
const loginStormConnections = 64;
/** Catalogue reads per second offered beside the login storm (and alone, for the baseline): well within what the edge serves. */
const loginStormReadRate = 200;
/** Connections of those reads: enough that reads slowed down by the storm still leave on time. */
const loginStormReadConnections = 16;

/**
 * Whether expensive work starves the rest: catalogue reads at a steady pace (an open loop, latency
 * from when each was due) first alone, then while 64 connections sign in as fast as they are answered
 * (argon2id, bounded by the password-hashing limiter). Reports the sign-ins per second, the share the
 * limiter refused with 503 (expected under a storm, so not an error), and the reads' latency idle and
 * during the storm; the row's latencies are the reads' during the storm. At most 5 s each.
 */
export async function loginStorm(context: ScenarioContext): Promise<ScenarioResult> {
  await settle(context, 'login-storm');
  const seconds = Math.min(5, context.durationSeconds);
  const data = loadData(context.target);
  const reads = plan(context, [{ kind: 'catalog-read', weight: 1 }], data, {
    durationSeconds: seconds, ratePerSecond: loginStormReadRate, connections: loginStormReadConnections,
  });
  const storm = plan(context, [{ kind: 'sign-in', weight: 1 }], data, { durationSeconds: seconds, connections: loginStormConnections });
  if (context.warmUpSeconds > 0) {
    context.log(`login-storm: warming up the reads for ${context.warmUpSeconds} s`);
    await context.load.run({ ...reads, durationSeconds: context.warmUpSeconds });
  }
  context.log(`login-storm: catalogue reads at ${loginStormReadRate}/s alone for ${seconds} s`);
  const idle = await context.load.run(reads);
  context.log(`login-storm: the same reads while ${loginStormConnections} connections sign in, for ${seconds} s`);
  const { value: [during, signIns], resources } = await sampled(context, () => Promise.all([context.load.run(reads), context.load.run(storm)]));
  // Sign-ins still waiting for a hasher when the storm stopped are done within the hashing wait bound (2 s by default).
  await sleep(2000);
  const refused = signIns.statusCodes['503'] ?? 0;
  const loads = [idle, during, signIns];
  return {
    name: 'login-storm', kind: 'scenario', metric: 'sign-ins/s', throughput: round(signIns.ok / signIns.durationSeconds), latencyMs: during.latencyMs, ratio: null, databaseLoad: null,
    errors: withTotal({
      // A 503 is the limiter refusing a sign-in it could not hash in time: what the storm is meant to show, not a failure.
      non2xx: idle.non2xx + during.non2xx + signIns.non2xx - refused,
      connectionErrors: sum(loads.map((load) => load.errors)), timeouts: sum(loads.map((load) => load.timeouts)), dropped: idle.dropped + during.dropped,
      unfinishedOrders: 0, cancelledOrders: 0, failedReplays: 0,
    }),
    durationSeconds: round(signIns.durationSeconds), warmUpSeconds: context.warmUpSeconds, connections: loginStormConnections, resources,
    details: {
      signInConnections: loginStormConnections,
      signInsAnswered: signIns.answered,
      signInsRefused: refused,
      refusedShare: signIns.answered === 0 ? 0 : round(refused / signIns.answered),
      signInLatencyMs: signIns.byKind['sign-in']?.latencyMs ?? null,
      signInStatusCodes: signIns.statusCodes,
      catalogueReadsPerSecond: loginStormReadRate,
      catalogueReadLatencyIdleMs: idle.latencyMs,
      catalogueReadLatencyDuringStormMs: during.latencyMs,
      catalogueP99ToIdle: idle.latencyMs.p99 > 0 ? round(during.latencyMs.p99 / idle.latencyMs.p99) : null,
      failureSamples: loads.flatMap((load) => load.failureSamples).filter((sample) => !sample.startsWith('sign-in 503')),
    },
  };
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}
