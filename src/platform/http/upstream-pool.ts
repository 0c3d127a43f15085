import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import CircuitBreaker from 'opossum';
import { Pool, type Dispatcher } from 'undici';
import type { UpstreamHealthChecks } from './upstream-health-checks.ts';

/** One request the gateway sends to an upstream service. */
export interface UpstreamRequest {
  method: string;
  /** Path and query string, e.g. `/v1/orders?limit=10`. */
  path: string;
  headers: Record<string, string>;
  /**
   * A buffer can be sent again on retry; a stream (a large upload) cannot. A stream that fails on
   * the caller's side fails with RequestBodyError, so that it is not taken for the upstream's failure.
   */
  body?: Buffer | Readable;
  /** Longest wait for the response headers, and for each chunk of the body after them. */
  timeoutMs: number;
  /** The route says a retry is safe (an idempotent method whose handler is idempotent too). */
  retryable: boolean;
}

/** An upstream's answer; the body is streamed to the client, and must be consumed or dumped. */
export interface UpstreamResponse {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: Dispatcher.ResponseData['body'];
  /** Which instance answered (its base URL); for logs, never sent to clients. */
  instance: string;
}

/** Why no upstream answer can be given: the gateway turns each kind into its own problem. */
export class UpstreamUnavailableError extends Error {
  readonly kind: 'circuit-open' | 'no-healthy-instance' | 'timeout' | 'connection-failed';
  readonly upstream: string;
  /** For `circuit-open`: when the breaker lets a probe through again. */
  readonly retryAfterSeconds: number;
  constructor(upstream: string, kind: UpstreamUnavailableError['kind'], retryAfterSeconds = 1, cause?: unknown) {
    super(`upstream ${upstream}: ${kind}`, { cause });
    this.name = 'UpstreamUnavailableError';
    this.upstream = upstream;
    this.kind = kind;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * The failure of a request body the caller streams, raised by the caller's side of the stream (its
 * client went away, or sent more than the route accepts): the caller's fault, never the upstream's.
 */
export class RequestBodyError extends Error {
  readonly reason: 'too-large' | 'client-aborted';
  constructor(reason: RequestBodyError['reason'], message: string) {
    super(message);
    this.name = 'RequestBodyError';
    this.reason = reason;
  }
}

/**
 * The request could not be sent as given (the client library refuses one of its headers, or its
 * streamed body failed on the caller's side): the caller's fault, so it counts against neither the
 * instance nor the circuit, and is never retried.
 */
export class UnsendableRequestError extends Error {
  readonly upstream: string;
  constructor(upstream: string, cause: unknown) {
    super(`upstream ${upstream}: the request cannot be sent`, { cause });
    this.name = 'UnsendableRequestError';
    this.upstream = upstream;
  }
}

/** An upstream answered "unavailable" (502, 503 without Retry-After, 504): counted as a failure, still passed to the client. */
class FailedResponse extends Error {
  readonly response: UpstreamResponse;
  constructor(response: UpstreamResponse) {
    super(`upstream answered ${response.statusCode}`);
    this.response = response;
  }
}

export interface UpstreamPoolSettings {
  /** The service's name (`orders`), used in logs, problems and metrics. */
  name: string;
  /** Base URLs of its instances, e.g. `http://10.0.0.5:8080`. */
  instances: readonly string[];
  /** Kept-alive connections per instance; 32 by default. */
  connectionsPerInstance?: number;
  /** Consecutive failures after which an instance is taken out of rotation; 3 by default. */
  failuresToEject?: number;
  /** How long an ejected instance rests before one request probes it; 5 s by default. */
  ejectMs?: number;
  /** The circuit opens when more than this share of requests fail in the window; 50 by default. */
  breakerErrorPercentage?: number;
  /** Requests in the window before the breaker judges at all; 10 by default. */
  breakerVolumeThreshold?: number;
  /** The window the breaker judges; 10 s by default. */
  breakerWindowMs?: number;
  /** How long an open circuit fails fast before a half-open probe; 5 s by default. */
  breakerResetMs?: number;
  /** Retries allowed as a share of requests (0.2: one retry per five requests); 0.2 by default. */
  retryBudgetRatio?: number;
  /** Retries allowed per second whatever the traffic; 3 by default. */
  retryBudgetPerSecond?: number;
  /**
   * Active health of the instances, shared by the pools of one gateway: an instance its probes find
   * down gets no request, and a rested ejected one returns once a probe passes. Without it, only
   * failed requests take instances out of rotation.
   */
  healthChecks?: UpstreamHealthChecks;
  /** Called when the circuit changes state. */
  onCircuitChange?: (state: CircuitState) => void;
  onInstanceEjected?: (instance: string) => void;
}

export type CircuitState = 'closed' | 'open' | 'half-open';

/** One instance as routing sees it now. */
export interface InstanceHealth {
  url: string;
  /** `down`: its probes fail; `ejected`: its requests failed (passive health); else `healthy`. */
  state: 'healthy' | 'ejected' | 'down';
  /** When its last probe ended; undefined without health checks or before the first. */
  lastProbeAt: Date | undefined;
  /** Why it is in this state: the last probe's outcome, or the failures that ejected it. */
  reason: string;
}

/** The state of one upstream service's instances and circuit. */
export interface UpstreamHealth {
  /** Some instance is healthy and the circuit is not open: a request can be served now. */
  up: boolean;
  circuit: CircuitState;
  instances: InstanceHealth[];
}

const unavailableStatuses = new Set([502, 503, 504]);

function isShedding(response: UpstreamResponse): boolean {
  return response.statusCode === 503 && response.headers['retry-after'] !== undefined;
}
// What undici throws for a request it will not send as given (a header it refuses, `expect`
// included; a body shorter or longer than its declared length): nothing the upstream did.
const requestFaultCodes = new Set(['UND_ERR_INVALID_ARG', 'UND_ERR_NOT_SUPPORTED', 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH']);
const idempotentMethods = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);

/** One instance's connections and passive health. */
class Instance {
  readonly url: string;
  readonly pool: Pool;
  consecutiveFailures = 0;
  /** Out of rotation until this time (ms); 0 when healthy. */
  ejectedUntil = 0;
  /** Why it was last ejected, for the readiness report. */
  ejectionReason = '';
  probing = false;

  constructor(url: string, connections: number) {
    this.url = url;
    this.pool = new Pool(url, { connections, keepAliveTimeout: 10_000, pipelining: 1 });
  }
}

/**
 * The instances of one upstream service behind the gateway: round-robin over the healthy ones,
 * active health when given health checks (an instance its probes find down gets nothing), passive
 * health (an instance failing `failuresToEject` times in a row rests for `ejectMs`, then one request,
 * or a passing probe, brings it back), one circuit breaker for the service (open: fail fast;
 * half-open: one probe), timeouts per request, and retries on another instance only for requests
 * marked retryable, within a retry budget so that retries cannot multiply the load of an outage.
 */
export class UpstreamPool {
  readonly name: string;
  readonly #instances: Instance[];
  readonly #failuresToEject: number;
  readonly #ejectMs: number;
  readonly #breaker: CircuitBreaker<[UpstreamRequest], UpstreamResponse>;
  readonly #breakerResetMs: number;
  readonly #budget: RetryBudget;
  readonly #onEjected: ((instance: string) => void) | undefined;
  readonly #health: UpstreamHealthChecks | undefined;
  readonly #firstProbes: Promise<void>;
  #probed: boolean;
  #next = 0;

  constructor(settings: UpstreamPoolSettings) {
    if (settings.instances.length === 0) throw new Error(`upstream ${settings.name} has no instances`);
    this.name = settings.name;
    this.#instances = settings.instances.map((url) => new Instance(url, settings.connectionsPerInstance ?? 32));
    this.#failuresToEject = settings.failuresToEject ?? 3;
    this.#ejectMs = settings.ejectMs ?? 5000;
    this.#breakerResetMs = settings.breakerResetMs ?? 5000;
    this.#budget = new RetryBudget(settings.retryBudgetRatio ?? 0.2, settings.retryBudgetPerSecond ?? 3);
    this.#onEjected = settings.onInstanceEjected;
    this.#health = settings.healthChecks;
    for (const instance of this.#instances) this.#health?.watch(instance.url);
    this.#probed = this.#health === undefined;
    this.#firstProbes = (this.#health?.firstOutcomes(this.#instances.map((instance) => instance.url)) ?? Promise.resolve()).then(() => { this.#probed = true; });
    this.#breaker = new CircuitBreaker((request: UpstreamRequest) => this.#send(request), {
      name: settings.name,
      timeout: false, // each request carries its own timeout
      errorThresholdPercentage: settings.breakerErrorPercentage ?? 50,
      volumeThreshold: settings.breakerVolumeThreshold ?? 10,
      rollingCountTimeout: settings.breakerWindowMs ?? 10_000,
      rollingCountBuckets: 10,
      resetTimeout: this.#breakerResetMs,
      // The caller's fault says nothing of the service's health (opossum counts it as a success).
      errorFilter: (error: unknown) => error instanceof UnsendableRequestError,
    });
    const onChange = settings.onCircuitChange;
    if (onChange !== undefined) {
      this.#breaker.on('open', () => { onChange('open'); });
      this.#breaker.on('halfOpen', () => { onChange('half-open'); });
      this.#breaker.on('close', () => { onChange('closed'); });
    }
  }

  get circuit(): CircuitState {
    if (this.#breaker.opened) return 'open';
    return this.#breaker.halfOpen ? 'half-open' : 'closed';
  }

  /** Whether some instance is in rotation (or due for a probe). */
  get available(): boolean {
    const now = Date.now();
    return this.circuit !== 'open' && this.#instances.some((instance) => !this.#isDown(instance) && instance.ejectedUntil <= now);
  }

  /** Resolves once the probes have judged every instance (each within its timeout); at once without health checks. */
  probed(): Promise<void> {
    return this.#firstProbes;
  }

  /** Each instance's state as routing sees it now, and whether the service can be served. */
  health(): UpstreamHealth {
    const now = Date.now();
    const instances = this.#instances.map((instance) => this.#instanceHealth(instance, now));
    const circuit = this.circuit;
    return { up: circuit !== 'open' && instances.some((instance) => instance.state === 'healthy'), circuit, instances };
  }

  /**
   * Sends `request` and answers the response (any status: a 5xx of the service is the client's
   * answer too), or throws UpstreamUnavailableError when no instance gave one, or
   * UnsendableRequestError when the request itself could not be sent.
   */
  async request(request: UpstreamRequest): Promise<UpstreamResponse> {
    this.#budget.deposit();
    // The first requests after start wait for the first probes (bounded by their timeout) rather than guess.
    if (!this.#probed) await this.#firstProbes;
    // The probes already say no instance can answer: refused at once, and not counted by the circuit,
    // which judges the instances' answers (counted, these would keep it open after an instance is back).
    if (this.#health !== undefined && this.#instances.every((instance) => this.#isDown(instance))) {
      throw new UpstreamUnavailableError(this.name, 'no-healthy-instance', Math.max(1, Math.ceil(this.#health.intervalMs / 1000)));
    }
    try {
      return await this.#breaker.fire(request);
    } catch (error) {
      if (error instanceof FailedResponse) return error.response;
      if (error instanceof UpstreamUnavailableError || error instanceof UnsendableRequestError) throw error;
      if ((error as { code?: string }).code === 'EOPENBREAKER') {
        throw new UpstreamUnavailableError(this.name, 'circuit-open', Math.max(1, Math.ceil(this.#breakerResetMs / 1000)));
      }
      throw error;
    }
  }

  async close(): Promise<void> {
    this.#breaker.shutdown();
    await Promise.all(this.#instances.map((instance) => instance.pool.close()));
  }

  async #send(request: UpstreamRequest): Promise<UpstreamResponse> {
    const tried = new Set<Instance>();
    for (;;) {
      const instance = this.#pick(tried);
      if (instance === undefined) throw new UpstreamUnavailableError(this.name, 'no-healthy-instance');
      tried.add(instance);
      // A refused connection never reached the service, so even a POST may go to another instance.
      const canRetry = (neverSent = false) => (neverSent || (request.retryable && idempotentMethods.has(request.method))) && !isStream(request.body)
        && this.#hasAnother(tried) && this.#budget.withdraw();
      let response: UpstreamResponse;
      // The wait for the headers is bounded by a timer of our own (the client library's timers are
      // coarse); once they arrive, the body may stream as long as it keeps moving.
      const abort = new AbortController();
      const timer = setTimeout(() => { abort.abort(new UpstreamUnavailableError(this.name, 'timeout')); }, request.timeoutMs);
      try {
        const answer = await instance.pool.request({
          method: request.method,
          path: request.path,
          headers: request.headers,
          body: request.body ?? null,
          signal: abort.signal,
          bodyTimeout: request.timeoutMs,
        });
        response = { statusCode: answer.statusCode, headers: answer.headers, body: answer.body, instance: instance.url };
      } catch (error) {
        if (isCallersFault(error)) {
          // The instance was not at fault; if this was its probe, the next request probes it instead.
          instance.probing = false;
          throw new UnsendableRequestError(this.name, error);
        }
        this.#failed(instance);
        const code = (error as { code?: string }).code ?? '';
        if (canRetry(code === 'ECONNREFUSED')) continue;
        if (error instanceof UpstreamUnavailableError) throw error;
        throw new UpstreamUnavailableError(this.name, 'connection-failed', 1, error);
      } finally {
        clearTimeout(timer);
      }
      // A 503 with Retry-After is an instance shedding load on purpose (its order backlog, its
      // pool): it answered, so it is healthy; ejecting it or opening the circuit would only move
      // its load onto the others, or refuse the reads it can still serve.
      if (!unavailableStatuses.has(response.statusCode) || isShedding(response)) {
        this.#succeeded(instance);
        return response;
      }
      this.#failed(instance);
      if (canRetry()) {
        await response.body.dump();
        continue;
      }
      throw new FailedResponse(response);
    }
  }

  /** The next instance in rotation not tried yet for this request; a rested ejected one is probed by exactly one request. */
  #pick(tried: ReadonlySet<Instance>): Instance | undefined {
    const now = Date.now();
    for (let step = 0; step < this.#instances.length; step += 1) {
      const instance = this.#instances[(this.#next + step) % this.#instances.length];
      if (instance === undefined || tried.has(instance)) continue;
      const rotation = this.#rotation(instance, now);
      if (rotation === 'out') continue;
      if (rotation === 'probe') instance.probing = true;
      this.#next = (this.#next + step + 1) % this.#instances.length;
      return instance;
    }
    return undefined;
  }

  #hasAnother(tried: ReadonlySet<Instance>): boolean {
    const now = Date.now();
    return this.#instances.some((instance) => !tried.has(instance) && this.#rotation(instance, now) !== 'out');
  }

  /** Whether `instance` may take a request now: `in` rotation, as the one request `probe`-ing it back after its rest, or `out`. */
  #rotation(instance: Instance, now: number): 'in' | 'probe' | 'out' {
    if (this.#isDown(instance)) return 'out';
    this.#endRestIfProbed(instance, now);
    if (instance.ejectedUntil === 0) return 'in';
    return instance.ejectedUntil <= now && !instance.probing ? 'probe' : 'out';
  }

  #isDown(instance: Instance): boolean {
    return this.#health?.healthOf(instance.url).verdict === 'down';
  }

  /**
   * A probe that passed after an ejected instance's rest brings it back as a request probing it
   * would: without it, an instance ejected while traffic stopped (a gateway taken out of rotation)
   * would wait for a request that never comes.
   */
  #endRestIfProbed(instance: Instance, now: number): void {
    if (instance.ejectedUntil === 0 || instance.ejectedUntil > now || instance.probing || this.#health === undefined) return;
    if (this.#health.healthOf(instance.url).lastPassAt < instance.ejectedUntil) return;
    instance.ejectedUntil = 0;
    instance.consecutiveFailures = 0;
  }

  #instanceHealth(instance: Instance, now: number): InstanceHealth {
    const probed = this.#health?.healthOf(instance.url);
    const lastProbeAt = probed?.lastProbeAt;
    if (probed !== undefined && probed.verdict !== 'up') return { url: instance.url, state: 'down', lastProbeAt, reason: probed.lastOutcome ?? 'not probed yet' };
    this.#endRestIfProbed(instance, now);
    if (instance.ejectedUntil !== 0) {
      const until = instance.ejectedUntil > now ? `out of rotation until ${new Date(instance.ejectedUntil).toISOString()}` : 'back once a request or a probe succeeds';
      return { url: instance.url, state: 'ejected', lastProbeAt, reason: `${instance.ejectionReason}; ${until}` };
    }
    return { url: instance.url, state: 'healthy', lastProbeAt, reason: probed?.lastOutcome ?? 'no failed request' };
  }

  #succeeded(instance: Instance): void {
    instance.consecutiveFailures = 0;
    instance.ejectedUntil = 0;
    instance.probing = false;
  }

  #failed(instance: Instance): void {
    instance.consecutiveFailures += 1;
    if (instance.probing || instance.consecutiveFailures >= this.#failuresToEject) {
      instance.ejectionReason = instance.probing ? 'the request probing it back failed' : `${instance.consecutiveFailures} ${instance.consecutiveFailures === 1 ? 'request' : 'requests'} failed in a row`;
      const wasInRotation = instance.ejectedUntil === 0;
      instance.ejectedUntil = Date.now() + this.#ejectMs;
      instance.probing = false;
      if (wasInRotation) this.#onEjected?.(instance.url);
    }
  }
}

function isCallersFault(error: unknown): boolean {
  if (error instanceof RequestBodyError) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && requestFaultCodes.has(code);
}

function isStream(body: UpstreamRequest['body']): boolean {
  return body !== undefined && !Buffer.isBuffer(body);
}

/**
 * Retries as a share of requests: each request earns `ratio` of a retry, plus `perSecond` retries
 * a second whatever the traffic, up to a small reserve; each retry spends one.
 */
class RetryBudget {
  readonly #ratio: number;
  readonly #perSecond: number;
  readonly #reserve: number;
  #tokens: number;
  #updatedAt = performance.now();

  constructor(ratio: number, perSecond: number) {
    this.#ratio = ratio;
    this.#perSecond = perSecond;
    this.#reserve = Math.max(10, perSecond * 10);
    this.#tokens = perSecond;
  }

  deposit(): void {
    this.#refill();
    this.#tokens = Math.min(this.#reserve, this.#tokens + this.#ratio);
  }

  withdraw(): boolean {
    this.#refill();
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  #refill(): void {
    const now = performance.now();
    this.#tokens = Math.min(this.#reserve, this.#tokens + ((now - this.#updatedAt) / 1000) * this.#perSecond);
    this.#updatedAt = now;
  }
}
