/** How a failing piece of work waits before its next attempt. */
export interface Backoff {
  /** The ceiling of the first retry's delay; it doubles with each attempt. */
  readonly baseDelayMs: number;
  /** The longest delay, whatever the attempt; without it the ceiling stops doubling after 20 attempts. */
  readonly maxDelayMs?: number;
}

/**
 * Exponential backoff with jitter: attempt n (from 1) waits between half and all of
 * base × 2^(n−1), and never longer than `maxDelayMs`. The jitter spreads out retries of work that
 * failed together; the exponent stops at 20 so that a huge attempt count still gives a finite delay.
 */
export function backoffDelayMs(backoff: Backoff, attempt: number, random: () => number = Math.random): number {
  const ceiling = backoff.baseDelayMs * 2 ** Math.min(Math.max(attempt, 1) - 1, 20);
  const delay = Math.round(ceiling / 2 + random() * (ceiling / 2));
  return backoff.maxDelayMs === undefined ? delay : Math.min(delay, backoff.maxDelayMs);
}
