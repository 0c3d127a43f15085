/** How many failed sign-ins one account or one address may have within a sliding window. */
export interface ThrottlePolicy {
  readonly maxFailures: number;
  readonly windowSeconds: number;
}

export const defaultThrottlePolicy: ThrottlePolicy = { maxFailures: 5, windowSeconds: 15 * 60 };

/** What is counted: the normalised email tried, and the client address it came from. */
export interface ThrottleSubject {
  readonly kind: 'email' | 'ip';
  readonly value: string;
}

/** Recent failures of one subject: how many, and when the oldest in the window happened. */
export interface FailureWindow {
  readonly subject: ThrottleSubject;
  readonly count: number;
  readonly oldestAt: Date | undefined;
}

/** Start of the window that counts at `now`. */
export function windowStart(policy: ThrottlePolicy, now: Date): Date {
  return new Date(now.getTime() - policy.windowSeconds * 1000);
}

/**
 * Seconds until a sign-in may be tried again, or 0 when it may be tried now. A subject at the limit
 * waits until its oldest failure leaves the window.
 */
export function retryAfterSeconds(windows: readonly FailureWindow[], policy: ThrottlePolicy, now: Date): number {
  let wait = 0;
  for (const window of windows) {
    if (window.count < policy.maxFailures || window.oldestAt === undefined) continue;
    const freeAt = window.oldestAt.getTime() + policy.windowSeconds * 1000;
    wait = Math.max(wait, 1, Math.ceil((freeAt - now.getTime()) / 1000));
  }
  return wait;
}
