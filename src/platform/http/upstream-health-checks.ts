import { Client } from 'undici';

/** How the instances behind a gateway are probed. */
export interface HealthCheckSettings {
  /** Path probed on every instance; `/readyz` by default (every OrderStream process serves it, unsigned). */
  path?: string;
  /** Pause between the end of one probe of an instance and the start of the next. */
  intervalMs: number;
  /** Longest one probe may take, connection included, before it counts as failed. */
  timeoutMs: number;
  /** Failed probes in a row after which an instance is down; 2 by default. */
  failuresToMarkDown?: number;
  /** Passing probes in a row after which a down instance is up again; 1 by default. */
  passesToMarkUp?: number;
  /** Called when an instance goes down, or comes back up after being down. */
  onChange?: (instance: string, change: { up: boolean; reason: string }) => void;
}

/** What the probes know of one instance. */
export interface ProbedHealth {
  /** `unknown` until its first probe has ended. */
  verdict: 'unknown' | 'up' | 'down';
  /** When the last probe ended. */
  lastProbeAt: Date | undefined;
  /** How the last probe ended: `answered 200`, `connection refused`, `no answer within 1000 ms`, ... */
  lastOutcome: string | undefined;
  /** When a probe last passed (ms since the epoch); 0 when none has. */
  lastPassAt: number;
}

/** One instance's probe loop. */
class Prober {
  readonly url: string;
  readonly client: Client;
  readonly firstOutcome = Promise.withResolvers<undefined>();
  health: ProbedHealth = { verdict: 'unknown', lastProbeAt: undefined, lastOutcome: undefined, lastPassAt: 0 };
  failures = 0;
  passes = 0;
  timer: NodeJS.Timeout | undefined;
  inFlight: Promise<void> | undefined;
  abort: AbortController | undefined;

  constructor(url: string, timeoutMs: number) {
    this.url = url;
    // A connection of its own, apart from the traffic's pool: a probe queued behind busy requests
    // would time out and judge the queue, not the instance.
    this.client = new Client(url, { pipelining: 1, connect: { timeout: timeoutMs } });
  }
}

/**
 * Active health of upstream instances: each instance's readiness endpoint is probed on an
 * interval, each probe bounded by a timeout, and the next one scheduled only once it has ended, so
 * probes never pile up on a slow instance. An instance is down after `failuresToMarkDown` failed
 * probes in a row, up again after `passesToMarkUp` passing ones; a first probe that passes marks it
 * up at once, and one that has never answered stays unknown (tried, not refused) until it does.
 * One loop per distinct URL, however many upstream pools share the instance.
 */
export class UpstreamHealthChecks {
  readonly intervalMs: number;
  readonly #path: string;
  readonly #timeoutMs: number;
  readonly #failuresToMarkDown: number;
  readonly #passesToMarkUp: number;
  readonly #onChange: HealthCheckSettings['onChange'];
  readonly #probers = new Map<string, Prober>();
  #started = false;
  #closed = false;

  constructor(settings: HealthCheckSettings) {
    this.intervalMs = settings.intervalMs;
    this.#path = settings.path ?? '/readyz';
    this.#timeoutMs = settings.timeoutMs;
    this.#failuresToMarkDown = settings.failuresToMarkDown ?? 2;
    this.#passesToMarkUp = settings.passesToMarkUp ?? 1;
    this.#onChange = settings.onChange;
  }

  /** Probes `url` too (once, however many pools ask), from `start()` on. */
  watch(url: string): void {
    if (this.#closed) throw new Error('the health checks are closed');
    if (this.#probers.has(url)) return;
    const prober = new Prober(url, this.#timeoutMs);
    this.#probers.set(url, prober);
    if (this.#started) this.#schedule(prober, 0);
  }

  /** Probes every instance watched, the first time at once; apart from `watch` so that a failed setup starts nothing. */
  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    for (const prober of this.#probers.values()) this.#schedule(prober, 0);
  }

  /** What the probes know of `url` now. */
  healthOf(url: string): ProbedHealth {
    return this.#probers.get(url)?.health ?? { verdict: 'unknown', lastProbeAt: undefined, lastOutcome: undefined, lastPassAt: 0 };
  }

  /** Resolves once each of `urls` has had its first probe end after `start()` (each bounded by the timeout), or the checks are closed. */
  async firstOutcomes(urls: readonly string[]): Promise<void> {
    await Promise.all(urls.flatMap((url) => this.#probers.get(url)?.firstOutcome.promise ?? []));
  }

  /** Stops every probe loop: no probe starts after this, and the ones in flight are cut off. */
  async close(): Promise<void> {
    this.#closed = true;
    const probers = [...this.#probers.values()];
    for (const prober of probers) {
      clearTimeout(prober.timer);
      prober.abort?.abort();
      prober.firstOutcome.resolve(undefined);
    }
    await Promise.all(probers.flatMap((prober) => prober.inFlight ?? []));
    await Promise.all(probers.map((prober) => prober.client.destroy()));
  }

  #schedule(prober: Prober, delayMs: number): void {
    if (this.#closed) return;
    prober.timer = setTimeout(() => {
      prober.timer = undefined;
      prober.inFlight = this.#probe(prober).finally(() => {
        prober.inFlight = undefined;
        this.#schedule(prober, this.intervalMs);
      });
    }, delayMs);
    // Probes alone must never keep a process alive.
    prober.timer.unref();
  }

  async #probe(prober: Prober): Promise<void> {
    const abort = new AbortController();
    prober.abort = abort;
    // Our own timer bounds the whole probe: the client library's timers are coarse.
    const cancelTimeout = abortWhenOverdue(abort, this.#timeoutMs);
    let outcome: { passed: boolean; answered: boolean; reason: string };
    try {
      const answer = await prober.client.request({
        method: 'GET', path: this.#path, signal: abort.signal,
        headers: { accept: 'application/json', 'user-agent': 'orderstream-gateway-health-check' },
      });
      await answer.body.dump();
      const passed = answer.statusCode >= 200 && answer.statusCode < 300;
      outcome = { passed, answered: true, reason: `answered ${answer.statusCode}` };
    } catch (error) {
      outcome = { passed: false, answered: false, reason: abort.signal.aborted ? `no answer within ${this.#timeoutMs} ms` : describeFailure(error) };
    } finally {
      cancelTimeout();
      prober.abort = undefined;
    }
    // A probe cut off by close() says nothing of the instance.
    if (this.#closed) return;
    this.#record(prober, outcome);
  }

  #record(prober: Prober, outcome: { passed: boolean; answered: boolean; reason: string }): void {
    const now = Date.now();
    const previous = prober.health.verdict;
    if (outcome.passed) {
      prober.passes += 1;
      prober.failures = 0;
    } else {
      prober.failures += 1;
      prober.passes = 0;
    }
    let verdict = previous;
    if (outcome.passed && (previous === 'unknown' || (previous === 'down' && prober.passes >= this.#passesToMarkUp))) verdict = 'up';
    // An instance that has never answered (a service starting beside its gateway) is not marked down
    // by probes that reach nobody: it stays unknown, tried by requests and ejected by their failures,
    // so a gateway started with its services does not refuse them for an interval after they listen.
    // One that answers "not ready", or that was up, is marked down as usual.
    if (!outcome.passed && (previous === 'up' || (previous === 'unknown' && outcome.answered)) && prober.failures >= this.#failuresToMarkDown) verdict = 'down';
    prober.health = {
      verdict, lastProbeAt: new Date(now), lastOutcome: outcome.reason, lastPassAt: outcome.passed ? now : prober.health.lastPassAt,
    };
    prober.firstOutcome.resolve(undefined);
    // An instance found up at start is the normal case, not a change worth a log line.
    if (verdict === previous || (previous === 'unknown' && verdict === 'up')) return;
    try {
      this.#onChange?.(prober.url, { up: verdict === 'up', reason: outcome.reason });
    } catch {
      // A listener's failure must not stop the probes, which outlive it.
    }
  }
}

/** How late a timer may fire before it counts as a stall of this process's event loop. */
const stallMs = 100;

/**
 * Aborts once `timeoutMs` have passed. A timer that fires late means this process's event loop
 * stood still (start-up, a long task), while the instance's answer may have been waiting unread:
 * the probe then gets one more window, so that a stall of our own is not blamed on the instance.
 */
function abortWhenOverdue(abort: AbortController, timeoutMs: number): () => void {
  let timer: NodeJS.Timeout | undefined;
  let extended = false;
  const arm = () => {
    const due = performance.now() + timeoutMs;
    timer = setTimeout(() => {
      if (!extended && performance.now() - due > stallMs) {
        extended = true;
        arm();
        return;
      }
      abort.abort();
    }, timeoutMs);
  };
  arm();
  return () => { clearTimeout(timer); };
}

function describeFailure(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return 'connection reset';
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'connection timed out';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    default:
      // The code only, never the message: the reason is shown on the public /readyz, and messages name addresses.
      return typeof code === 'string' ? `connection failed (${code})` : 'connection failed';
  }
}
