import { Pool } from 'undici';
import type { UpstreamHealthChecks } from './upstream-health-checks.ts';

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

/** One instance's connections and passive health. */
export class UpstreamInstance {
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
 * The rotation of one upstream service's instances: round-robin over those in rotation, none its
 * probes find down (active health, when given health checks), and none resting after failing
 * `failuresToEject` requests in a row (passive health) until one request, or a passing probe,
 * brings it back.
 */
export class UpstreamInstances {
  readonly #instances: UpstreamInstance[];
  readonly #failuresToEject: number;
  readonly #ejectMs: number;
  readonly #onEjected: ((instance: string) => void) | undefined;
  readonly #health: UpstreamHealthChecks | undefined;
  #next = 0;

  constructor(settings: {
    urls: readonly string[];
    connectionsPerInstance: number;
    failuresToEject: number;
    ejectMs: number;
    healthChecks: UpstreamHealthChecks | undefined;
    onEjected: ((instance: string) => void) | undefined;
  }) {
    this.#instances = settings.urls.map((url) => new UpstreamInstance(url, settings.connectionsPerInstance));
    this.#failuresToEject = settings.failuresToEject;
    this.#ejectMs = settings.ejectMs;
    this.#onEjected = settings.onEjected;
    this.#health = settings.healthChecks;
    for (const instance of this.#instances) this.#health?.watch(instance.url);
  }

  get urls(): string[] {
    return this.#instances.map((instance) => instance.url);
  }

  /** Whether some instance is in rotation (or due for a probe). */
  anyAvailable(now: number): boolean {
    return this.#instances.some((instance) => !this.#isDown(instance) && instance.ejectedUntil <= now);
  }

  /** Whether the probes find every instance down. */
  allDown(): boolean {
    return this.#instances.every((instance) => this.#isDown(instance));
  }

  /** Each instance's state as routing sees it now. */
  health(now: number): InstanceHealth[] {
    return this.#instances.map((instance) => this.#instanceHealth(instance, now));
  }

  /** The next instance in rotation not tried yet for this request; a rested ejected one is probed by exactly one request. */
  pick(tried: ReadonlySet<UpstreamInstance>): UpstreamInstance | undefined {
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

  hasAnother(tried: ReadonlySet<UpstreamInstance>): boolean {
    const now = Date.now();
    return this.#instances.some((instance) => !tried.has(instance) && this.#rotation(instance, now) !== 'out');
  }

  /** The instance was not at fault; if this was its probe, the next request probes it instead. */
  notJudged(instance: UpstreamInstance): void {
    instance.probing = false;
  }

  succeeded(instance: UpstreamInstance): void {
    instance.consecutiveFailures = 0;
    instance.ejectedUntil = 0;
    instance.probing = false;
  }

  failed(instance: UpstreamInstance): void {
    instance.consecutiveFailures += 1;
    if (instance.probing || instance.consecutiveFailures >= this.#failuresToEject) {
      instance.ejectionReason = instance.probing ? 'the request probing it back failed' : `${instance.consecutiveFailures} ${instance.consecutiveFailures === 1 ? 'request' : 'requests'} failed in a row`;
      const wasInRotation = instance.ejectedUntil === 0;
      instance.ejectedUntil = Date.now() + this.#ejectMs;
      instance.probing = false;
      if (wasInRotation) this.#onEjected?.(instance.url);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.#instances.map((instance) => instance.pool.close()));
  }

  /** Whether `instance` may take a request now: `in` rotation, as the one request `probe`-ing it back after its rest, or `out`. */
  #rotation(instance: UpstreamInstance, now: number): 'in' | 'probe' | 'out' {
    if (this.#isDown(instance)) return 'out';
    this.#endRestIfProbed(instance, now);
    if (instance.ejectedUntil === 0) return 'in';
    return instance.ejectedUntil <= now && !instance.probing ? 'probe' : 'out';
  }

  #isDown(instance: UpstreamInstance): boolean {
    return this.#health?.healthOf(instance.url).verdict === 'down';
  }

  /**
   * A probe that passed after an ejected instance's rest brings it back as a request probing it
   * would: without it, an instance ejected while traffic stopped (a gateway taken out of rotation)
   * would wait for a request that never comes.
   */
  #endRestIfProbed(instance: UpstreamInstance, now: number): void {
    if (instance.ejectedUntil === 0 || instance.ejectedUntil > now || instance.probing || this.#health === undefined) return;
    if (this.#health.healthOf(instance.url).lastPassAt < instance.ejectedUntil) return;
    instance.ejectedUntil = 0;
    instance.consecutiveFailures = 0;
  }

  #instanceHealth(instance: UpstreamInstance, now: number): InstanceHealth {
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
}
