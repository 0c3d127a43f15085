/**
 * The benchmark's load generator, run as its own process (`fork`) so that sending requests never
 * competes with the server for the same event loop. It answers `{ id, plan }` messages with
 * `{ id, result }` (or `{ id, error }`).
 */
import http from 'node:http';
import autocannon from 'autocannon';
import { requestSource, type BenchRequest, type KindResult, type LoadPlan, type LoadResult, type RequestKind } from './load-plan.ts';
import { percentiles } from './statistics.ts';

/** Everything the two ways of sending record while they run. */
class Recorder {
  readonly latencies: number[] = [];
  readonly byKind = new Map<RequestKind, { answered: number; non2xx: number; latencies: number[] }>();
  readonly statusCodes: Record<string, number> = {};
  readonly failureSamples: string[] = [];
  readonly placedOrders: { id: string; dueAtMs: number }[] = [];
  answered = 0;
  refusedWithRetryAfter = 0;
  non2xx = 0;
  errors = 0;
  timeouts = 0;
  dropped = 0;

  answer(kind: RequestKind, status: number, latencyMs: number, body: string | undefined): void {
    this.answered += 1;
    this.statusCodes[status] = (this.statusCodes[status] ?? 0) + 1;
    let entry = this.byKind.get(kind);
    if (entry === undefined) {
      entry = { answered: 0, non2xx: 0, latencies: [] };
      this.byKind.set(kind, entry);
    }
    entry.answered += 1;
    if (status >= 200 && status < 300) {
      this.latencies.push(latencyMs);
      entry.latencies.push(latencyMs);
      return;
    }
    this.non2xx += 1;
    entry.non2xx += 1;
    if (this.failureSamples.length < 5) this.failureSamples.push(`${kind} ${status}: ${(body ?? '').slice(0, 300)}`);
  }

  result(startedAtMs: number, finishedAtMs: number): LoadResult {
    const byKind: Partial<Record<RequestKind, KindResult>> = {};
    for (const [kind, entry] of this.byKind) byKind[kind] = { answered: entry.answered, non2xx: entry.non2xx, latencyMs: percentiles(entry.latencies) };
    return {
      startedAtMs, finishedAtMs, durationSeconds: (finishedAtMs - startedAtMs) / 1000,
      answered: this.answered, ok: this.answered - this.non2xx, non2xx: this.non2xx, errors: this.errors, timeouts: this.timeouts, dropped: this.dropped,
      statusCodes: this.statusCodes, refusedWithRetryAfter: this.refusedWithRetryAfter, latencyMs: percentiles(this.latencies), byKind, failureSamples: this.failureSamples, placedOrders: this.placedOrders,
    };
  }
}

/** Runs one plan: closed loop with autocannon, or open loop at `ratePerSecond` with a paced sender. */
export function runLoad(plan: LoadPlan): Promise<LoadResult> {
  return plan.ratePerSecond === undefined ? runClosedLoop(plan) : runOpenLoop(plan, plan.ratePerSecond);
}

async function runClosedLoop(plan: LoadPlan): Promise<LoadResult> {
  const recorder = new Recorder();
  const next = requestSource(plan);
  // The answer's kind is noted by onResponse, which autocannon calls just before it emits 'response' with the latency.
  let answeredKind: RequestKind = 'catalog-read';
  const startedAtMs = Date.now();
  const instance = autocannon({
    url: plan.url,
    connections: plan.connections,
    duration: plan.durationSeconds,
    timeout: 10,
    requests: [{
      setupRequest: (request, context) => {
        const drawn = next();
        (context as { kind?: RequestKind }).kind = drawn.kind;
        return { ...request, method: drawn.method, path: drawn.path, headers: drawn.headers, body: drawn.body };
      },
      onResponse: (status, body, context) => {
        answeredKind = (context as { kind?: RequestKind }).kind ?? answeredKind;
        if (status < 200 || status >= 300) recorder.answer(answeredKind, status, 0, body);
      },
    }],
  }, () => undefined);
  instance.on('response', (_client, status, _bytes, responseTime) => {
    if (status >= 200 && status < 300) recorder.answer(answeredKind, status, responseTime, undefined);
  });
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    instance.on('done', resolve);
    instance.on('error', reject);
  });
  recorder.errors = result.errors;
  recorder.timeouts = result.timeouts;
  return recorder.result(startedAtMs, Date.now());
}

async function runOpenLoop(plan: LoadPlan, ratePerSecond: number): Promise<LoadResult> {
  const recorder = new Recorder();
  const next = requestSource(plan);
  const target = new URL(plan.url);
  const agent = new http.Agent({ keepAlive: true, maxSockets: plan.connections });
  const maxWaiting = plan.connections * 20;
  const intervalMs = 1000 / ratePerSecond;
  const startedAt = performance.now();
  const startedAtMs = Date.now();
  const endsAt = startedAt + plan.durationSeconds * 1000;
  const inFlight = new Set<Promise<void>>();
  let due = startedAt;

  const send = (request: BenchRequest, dueAt: number): Promise<void> => new Promise((resolve) => {
    const outgoing = http.request({
      host: target.hostname, port: target.port, method: request.method, path: request.path, agent,
      headers: { ...request.headers, ...(request.body === undefined ? {} : { 'content-length': Buffer.byteLength(request.body) }) },
      timeout: 10_000,
    }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => {
        const status = response.statusCode ?? 0;
        const body = Buffer.concat(chunks).toString('utf8');
        recorder.answer(request.kind, status, performance.now() - dueAt, body);
        if (status === 503 && response.headers['retry-after'] !== undefined) recorder.refusedWithRetryAfter += 1;
        if (plan.recordOrders === true && request.kind === 'place-order' && status === 202) {
          const id = (JSON.parse(body) as { id?: unknown }).id;
          if (typeof id === 'string') recorder.placedOrders.push({ id, dueAtMs: performance.timeOrigin + dueAt });
        }
        resolve();
      });
    });
    outgoing.on('timeout', () => {
      recorder.timeouts += 1;
      outgoing.destroy(new Error('timed out'));
    });
    outgoing.on('error', () => {
      recorder.errors += 1;
      resolve();
    });
    outgoing.end(request.body);
  });

  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (due <= now && due < endsAt) {
        if (inFlight.size >= maxWaiting) {
          recorder.dropped += 1;
        } else {
          const sending = send(next(), due);
          inFlight.add(sending);
          void sending.then(() => inFlight.delete(sending));
        }
        due += intervalMs;
      }
      if (due >= endsAt) {
        resolve();
        return;
      }
      setTimeout(tick, Math.max(0, Math.min(intervalMs, due - performance.now())));
    };
    tick();
  });
  await Promise.all(inFlight);
  agent.destroy();
  return recorder.result(startedAtMs, Date.now());
}

if (process.send !== undefined && process.argv.includes('--orderstream-load-generator')) {
  process.on('message', (message: { id: number; plan: LoadPlan }) => {
    runLoad(message.plan).then(
      (result) => process.send?.({ id: message.id, result }),
      (error: unknown) => process.send?.({ id: message.id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
    );
  });
  process.on('disconnect', () => { process.exit(0); });
}
