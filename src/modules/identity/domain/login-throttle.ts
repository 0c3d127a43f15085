/**
 * How sign-in attempts are slowed down without locking the owner out (OWASP's authentication and
 * credential-stuffing guidance): a delay that doubles per (account, client address) pair, a budget
 * per address across all accounts, and a mild, capped delay per account against guessing spread
 * over many addresses. An attempt is counted before its password is checked, as if it failed; a
 * success gives it back.
 */
export interface ThrottlePolicy {
  /** Failed sign-ins of one account from one address before each further attempt from there waits. */
  readonly failuresBeforeDelay: number;
  /** The first wait; it doubles with every further failure of the pair. */
  readonly baseDelaySeconds: number;
  /** The longest wait of a pair. */
  readonly maxDelaySeconds: number;
  /** Failed sign-ins one address may have across all accounts; the budget refills evenly over `addressWindowSeconds`. */
  readonly addressBudget: number;
  readonly addressWindowSeconds: number;
  /**
   * Failures of one account, counting from each address only its first `failuresBeforeDelay`, before
   * every attempt for the account waits: one address alone never reaches it, many addresses do.
   */
  readonly accountFailuresBeforeDelay: number;
  /** The longest account-wide wait; small, because the owner waits it too. */
  readonly accountMaxDelaySeconds: number;
  /** Failures with no attempt after them for this long are forgotten. */
  readonly forgetAfterSeconds: number;
}

export const defaultThrottlePolicy: ThrottlePolicy = {
  failuresBeforeDelay: 5,
  baseDelaySeconds: 1,
  maxDelaySeconds: 15 * 60,
  addressBudget: 100,
  addressWindowSeconds: 60 * 60,
  accountFailuresBeforeDelay: 20,
  accountMaxDelaySeconds: 60,
  forgetAfterSeconds: 24 * 60 * 60,
};

/** One attempt: the normalised email tried (whether or not it has an account) and the client address it came from. */
export interface SignInAttempt {
  readonly account: string;
  readonly address: string;
}

/**
 * Seconds to wait after `failures` failures once `failuresBeforeDelay` is reached: the base delay,
 * doubled per further failure, never above `maxDelaySeconds`; 0 before.
 */
export function delayAfterFailures(failures: number, limits: { failuresBeforeDelay: number; baseDelaySeconds: number; maxDelaySeconds: number }): number {
  if (failures < limits.failuresBeforeDelay) return 0;
  const doublings = failures - limits.failuresBeforeDelay;
  // 2^doublings overflows to Infinity long after it passed any cap, so the cap still applies.
  return Math.min(limits.maxDelaySeconds, limits.baseDelaySeconds * 2 ** doublings);
}

export function pairDelaySeconds(failures: number, policy: ThrottlePolicy): number {
  return delayAfterFailures(failures, policy);
}

export function accountDelaySeconds(failures: number, policy: ThrottlePolicy): number {
  return delayAfterFailures(failures, {
    failuresBeforeDelay: policy.accountFailuresBeforeDelay, baseDelaySeconds: policy.baseDelaySeconds, maxDelaySeconds: policy.accountMaxDelaySeconds,
  });
}

/** A pair's or an account's counter: failures so far, when the next attempt may start, the last attempt. */
export interface GateState {
  readonly failures: number;
  readonly nextAttemptAt: Date;
  readonly lastAttemptAt: Date;
}

/** An address's budget as a leaky bucket: how full it was at `updatedAt`. */
export interface BucketState {
  readonly level: number;
  readonly updatedAt: Date;
}

/** Either the new state after counting the attempt, or how long to wait (nothing counted). */
export type Decision<State> = { readonly allowed: true; readonly state: State } | { readonly allowed: false; readonly retryAfterSeconds: number };

function forgotten(state: GateState, now: Date, policy: ThrottlePolicy): boolean {
  return now.getTime() - state.lastAttemptAt.getTime() > policy.forgetAfterSeconds * 1000;
}

function waitUntil(moment: Date, now: Date): number {
  return Math.max(1, Math.ceil((moment.getTime() - now.getTime()) / 1000));
}

function secondsLater(now: Date, seconds: number): Date {
  return new Date(now.getTime() + seconds * 1000);
}

/**
 * Where a gate stands after an attempt that earns `delaySeconds`: no delay leaves it where it was, so
 * attempts whose clocks read a little apart never shut each other out while no delay is due.
 */
function movedGate(current: GateState | undefined, delaySeconds: number, now: Date): Date {
  return delaySeconds === 0 ? (current?.nextAttemptAt ?? now) : secondsLater(now, delaySeconds);
}

/** Counts an attempt of one (account, address) pair, or refuses it while the pair's delay lasts. */
export function reservePair(state: GateState | undefined, now: Date, policy: ThrottlePolicy): Decision<GateState> {
  const current = state === undefined || forgotten(state, now, policy) ? undefined : state;
  if (current !== undefined && now < current.nextAttemptAt) return { allowed: false, retryAfterSeconds: waitUntil(current.nextAttemptAt, now) };
  const failures = (current?.failures ?? 0) + 1;
  return { allowed: true, state: { failures, nextAttemptAt: movedGate(current, pairDelaySeconds(failures, policy), now), lastAttemptAt: now } };
}

/**
 * Passes an attempt through the account-wide gate, or refuses it while the account's delay lasts.
 * `counts` says whether the attempt adds to the account's failures (it is among its pair's first
 * `failuresBeforeDelay`); an attempt that does not count leaves the gate where it was.
 */
export function reserveAccount(state: GateState | undefined, counts: boolean, now: Date, policy: ThrottlePolicy): Decision<GateState> {
  const current = state === undefined || forgotten(state, now, policy) ? undefined : state;
  if (current !== undefined && now < current.nextAttemptAt) return { allowed: false, retryAfterSeconds: waitUntil(current.nextAttemptAt, now) };
  const failures = (current?.failures ?? 0) + (counts ? 1 : 0);
  const nextAttemptAt = counts ? movedGate(current, accountDelaySeconds(failures, policy), now) : (current?.nextAttemptAt ?? now);
  return { allowed: true, state: { failures, nextAttemptAt, lastAttemptAt: now } };
}

/** How full an address's bucket is at `now`, having drained at `addressBudget` per `addressWindowSeconds`. */
export function bucketLevel(state: BucketState | undefined, now: Date, policy: ThrottlePolicy): number {
  if (state === undefined) return 0;
  const elapsedSeconds = Math.max(0, (now.getTime() - state.updatedAt.getTime()) / 1000);
  return Math.max(0, state.level - elapsedSeconds * policy.addressBudget / policy.addressWindowSeconds);
}

/** Counts an attempt from one address against its budget, or refuses it until the bucket has room. */
export function reserveAddress(state: BucketState | undefined, now: Date, policy: ThrottlePolicy): Decision<BucketState> {
  const level = bucketLevel(state, now, policy) + 1;
  if (level > policy.addressBudget) {
    const drainPerSecond = policy.addressBudget / policy.addressWindowSeconds;
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((level - policy.addressBudget) / drainPerSecond)) };
  }
  return { allowed: true, state: { level, updatedAt: now } };
}

/** The three budgets one sign-in attempt passes through, as stored before it. */
export interface AttemptBudgets {
  readonly pair: GateState | undefined;
  readonly account: GateState | undefined;
  readonly address: BucketState | undefined;
}

/**
 * How long a refused attempt waits: the longest wait of the budgets that refuse it, so a client that
 * comes back after it finds none of them still closed (unless other attempts have counted meanwhile).
 * Undefined when no budget refuses. Whether an attempt counts for its account does not decide whether
 * the account's gate is closed, so it plays no part here.
 */
export function refusalWaitSeconds(budgets: AttemptBudgets, now: Date, policy: ThrottlePolicy): number | undefined {
  const decisions = [reservePair(budgets.pair, now, policy), reserveAccount(budgets.account, false, now, policy), reserveAddress(budgets.address, now, policy)];
  const waits = decisions.flatMap((decision) => (decision.allowed ? [] : [decision.retryAfterSeconds]));
  return waits.length === 0 ? undefined : Math.max(...waits);
}

/**
 * The key an address is counted under: an IPv6 address by its /64 (one subscriber's usual share, so
 * changing the last 64 bits buys nothing), an IPv4 address (also IPv4-mapped) as itself.
 */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped?.[1] !== undefined) return mapped[1];
  if (!address.includes(':')) return address;
  const [head = '', tail] = address.toLowerCase().split('%')[0]?.split('::') ?? [];
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const missing = Math.max(0, 8 - headGroups.length - tailGroups.length);
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array<string>(missing).fill('0'), ...tailGroups];
  return `${groups.slice(0, 4).map((group) => group.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
