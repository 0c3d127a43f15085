/** A dependency `/readyz` checks; resolves true when usable. */
export interface ReadinessCheck {
  name: string;
  /** Up or not; optionally with figures worth showing beside the answer (a pool's saturation). */
  check: () => Promise<boolean | CheckAnswer>;
  /**
   * Whether the process is unready without it (default true). A dependency the process works around
   * (the rate-limit store fails open) is reported but does not take the process out of rotation:
   * marking every instance unready at once for a shared dependency turns a degradation into an outage.
   */
  required?: boolean;
}

/** A check's answer with figures (numbers) that explain it. */
export interface CheckAnswer {
  up: boolean;
  details?: Readonly<Record<string, number>>;
  /** The instances behind the dependency (a gateway's upstream service), each with its own state. */
  instances?: InstanceReport[];
}

/** One instance behind a dependency, as the process routes to it now. */
export interface InstanceReport {
  /** Its position in the configured list, from 1: how the public listener names it. */
  instance: number;
  /** Its address; shown on the operations listener only (see `withoutAddresses`). */
  url?: string;
  state: 'healthy' | 'ejected' | 'down';
  /** When it was last probed (RFC 3339), null before its first probe. */
  lastProbeAt: string | null;
  reason: string;
}

/** One check's outcome: `timeout` when it did not answer within the probe's time limit. */
export interface CheckResult {
  status: 'up' | 'down' | 'timeout';
  required: boolean;
  durationMs: number;
  details?: Readonly<Record<string, number>>;
  instances?: InstanceReport[];
}

export interface ReadinessReport {
  /** Every required check is up. */
  ready: boolean;
  /** Some check that is not required is not up. */
  degraded: boolean;
  checks: Record<string, CheckResult>;
}

/**
 * Runs every check at once, each raced against `timeoutMs`, so a dependency that hangs (a
 * half-open connection, a full pool) makes the probe answer "not ready" in time instead of
 * hanging it past the orchestrator's own probe timeout. A check that throws counts as down.
 */
export async function runReadinessChecks(checks: readonly ReadinessCheck[], options: { timeoutMs: number }): Promise<ReadinessReport> {
  const results = await Promise.all(checks.map(async ({ name, check, required }) => {
    const startedAt = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => { resolve('timeout'); }, options.timeoutMs);
    });
    const answer = Promise.resolve().then(check).then(
      (outcome) => (typeof outcome === 'boolean' ? { up: outcome } : outcome),
      () => ({ up: false }),
    );
    const settled = await Promise.race([answer, timeout]);
    clearTimeout(timer);
    const status = settled === 'timeout' ? 'timeout' : settled.up ? 'up' as const : 'down' as const;
    const { details, instances } = settled === 'timeout' ? {} : settled as Partial<CheckAnswer>;
    const result: CheckResult = {
      status, required: required ?? true, durationMs: Math.round((performance.now() - startedAt) * 100) / 100,
      ...(details === undefined ? {} : { details }),
      ...(instances === undefined ? {} : { instances }),
    };
    return [name, result] as const;
  }));
  return {
    ready: results.every(([, result]) => result.status === 'up' || !result.required),
    degraded: results.some(([, result]) => result.status !== 'up' && !result.required),
    checks: Object.fromEntries(results),
  };
}

/**
 * The checks without the instances' addresses, for `/readyz` on the public listener: their states
 * are worth showing there, the internal network's layout is not.
 */
export function withoutAddresses(checks: Readonly<Record<string, CheckResult>>): Record<string, CheckResult> {
  return Object.fromEntries(Object.entries(checks).map(([name, result]) => [
    name,
    result.instances === undefined ? result : { ...result, instances: result.instances.map(({ instance, state, lastProbeAt, reason }) => ({ instance, state, lastProbeAt, reason })) },
  ]));
}
