import CircuitBreaker from 'opossum';
import { RetryBudget } from './retry-budget.ts';
import type { UpstreamHealthChecks } from './upstream-health-checks.ts';
import { UpstreamInstances, type InstanceHealth, type UpstreamInstance } from './upstream-instances.ts';
import {
  RequestBodyError, UnsendableRequestError, UpstreamUnavailableError, type UpstreamRequest, type UpstreamResponse,
} from './upstream-request.ts';

export type { InstanceHealth } from './upstream-instances.ts';
export {
  RequestBodyError, UnsendableRequestError, UpstreamUnavailableError, type UpstreamRequest, type UpstreamResponse,
} from './upstream-request.ts';

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

/**
 * The instances of one upstream service behind the gateway: round-robin over the healthy ones,
 * active health when given health checks (an instance its probes find down gets nothing), passive
 * health (an instance failing `failuresToEject` times in a row rests for `ejectMs`, then one request,
 * or a passing probe, brings it back), one circuit breaker for the service (open: fail fast;
 * half-open: one probe), timeouts per request, and retries on another instance only for requests
 * marked retryable, within a retry budget so that retries cannot multiply the load of an outage.
 * The rotation and the health of the instances are UpstreamInstances' (upstream-instances.ts).
 */
export class UpstreamPool {
  readonly name: string;
  readonly #instances: UpstreamInstances;
  readonly #breaker: CircuitBreaker<[UpstreamRequest], UpstreamResponse>;
  readonly #breakerResetMs: number;
  readonly #budget: RetryBudget;
  readonly #health: UpstreamHealthChecks | undefined;
  readonly #firstProbes: Promise<void>;
  #probed: boolean;

  constructor(settings: UpstreamPoolSettings) {
    if (settings.instances.length === 0) throw new Error(`upstream ${settings.name} has no instances`);
    this.name = settings.name;
    this.#instances = new UpstreamInstances({
      urls: settings.instances,
      connectionsPerInstance: settings.connectionsPerInstance ?? 32,
      failuresToEject: settings.failuresToEject ?? 3,
      ejectMs: settings.ejectMs ?? 5000,
      healthChecks: settings.healthChecks,
      onEjected: settings.onInstanceEjected,
    });
    this.#breakerResetMs = settings.breakerResetMs ?? 5000;
    this.#budget = new RetryBudget(settings.retryBudgetRatio ?? 0.2, settings.retryBudgetPerSecond ?? 3);
    this.#health = settings.healthChecks;
    this.#probed = this.#health === undefined;
    this.#firstProbes = (this.#health?.firstOutcomes(this.#instances.urls) ?? Promise.resolve()).then(() => { this.#probed = true; });
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
    return this.circuit !== 'open' && this.#instances.anyAvailable(now);
  }

  /** Resolves once the probes have judged every instance (each within its timeout); at once without health checks. */
  probed(): Promise<void> {
    return this.#firstProbes;
  }

  /** Each instance's state as routing sees it now, and whether the service can be served. */
  health(): UpstreamHealth {
    const now = Date.now();
    const instances = this.#instances.health(now);
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
    if (this.#health !== undefined && this.#instances.allDown()) {
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
    await this.#instances.close();
  }

  async #send(request: UpstreamRequest): Promise<UpstreamResponse> {
    const tried = new Set<UpstreamInstance>();
    for (;;) {
      const instance = this.#instances.pick(tried);
      if (instance === undefined) throw new UpstreamUnavailableError(this.name, 'no-healthy-instance');
      tried.add(instance);
      // A refused connection never reached the service, so even a POST may go to another instance.
      const canRetry = (neverSent = false) => (neverSent || (request.retryable && idempotentMethods.has(request.method))) && !isStream(request.body)
        && this.#instances.hasAnother(tried) && this.#budget.withdraw();
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
          this.#instances.notJudged(instance);
          throw new UnsendableRequestError(this.name, error);
        }
        this.#instances.failed(instance);
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
        this.#instances.succeeded(instance);
        return response;
      }
      this.#instances.failed(instance);
      if (canRetry()) {
        await response.body.dump();
        continue;
      }
      throw new FailedResponse(response);
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
