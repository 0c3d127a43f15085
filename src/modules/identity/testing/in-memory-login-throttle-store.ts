import type { LoginThrottleStore, ThrottleReservation } from '../application/ports.ts';
import {
  bucketLevel, refusalWaitSeconds, reserveAccount, reserveAddress, reservePair, type BucketState, type GateState, type SignInAttempt, type ThrottlePolicy,
} from '../domain/login-throttle.ts';

/** The sign-in budgets in memory, applying the domain's rules as PgLoginThrottleStore applies them in SQL. */
export class InMemoryLoginThrottleStore implements LoginThrottleStore {
  readonly pairs = new Map<string, GateState>();
  readonly accounts = new Map<string, GateState>();
  readonly addresses = new Map<string, BucketState>();
  readonly #policy: ThrottlePolicy;

  constructor(policy: ThrottlePolicy) {
    this.#policy = policy;
  }

  reserve(attempt: SignInAttempt, now: Date): Promise<ThrottleReservation | { retryAfterSeconds: number }> {
    const policy = this.#policy;
    const budgets = { pair: this.pairs.get(pairKey(attempt)), account: this.accounts.get(attempt.account), address: this.addresses.get(attempt.address) };
    const wait = refusalWaitSeconds(budgets, now, policy);
    if (wait !== undefined) return Promise.resolve({ retryAfterSeconds: wait });
    const address = reserveAddress(budgets.address, now, policy);
    const pair = reservePair(budgets.pair, now, policy);
    if (!address.allowed || !pair.allowed) throw new Error('a budget refused that refusalWaitSeconds let through');
    const counts = pair.state.failures <= policy.failuresBeforeDelay;
    const account = reserveAccount(budgets.account, counts, now, policy);
    if (!account.allowed) throw new Error('a budget refused that refusalWaitSeconds let through');
    this.addresses.set(attempt.address, address.state);
    this.pairs.set(pairKey(attempt), pair.state);
    this.accounts.set(attempt.account, account.state);
    return Promise.resolve({ attempt, at: now, pairGateAt: pair.state.nextAttemptAt, accountGateAt: counts ? account.state.nextAttemptAt : undefined });
  }

  succeed(reservation: ThrottleReservation): Promise<void> {
    this.#giveBackToAddress(reservation);
    this.pairs.delete(pairKey(reservation.attempt));
    this.#giveBackToAccount(reservation);
    return Promise.resolve();
  }

  release(reservation: ThrottleReservation): Promise<void> {
    this.#giveBackToAddress(reservation);
    const pair = this.pairs.get(pairKey(reservation.attempt));
    if (pair !== undefined) this.pairs.set(pairKey(reservation.attempt), givenBack(pair, reservation.pairGateAt, reservation.at));
    this.#giveBackToAccount(reservation);
    return Promise.resolve();
  }

  forgive(account: string): Promise<void> {
    for (const key of this.pairs.keys()) if (key.startsWith(`${account}\n`)) this.pairs.delete(key);
    this.accounts.delete(account);
    return Promise.resolve();
  }

  prune(now: Date): Promise<number> {
    let pruned = 0;
    const forgetBefore = now.getTime() - this.#policy.forgetAfterSeconds * 1000;
    for (const gates of [this.pairs, this.accounts]) {
      for (const [key, gate] of gates) {
        if (gate.lastAttemptAt.getTime() < forgetBefore || (gate.failures === 0 && gate.nextAttemptAt <= now)) { gates.delete(key); pruned += 1; }
      }
    }
    for (const [key, bucket] of this.addresses) {
      if (bucketLevel(bucket, now, this.#policy) <= 0) { this.addresses.delete(key); pruned += 1; }
    }
    return Promise.resolve(pruned);
  }

  #giveBackToAddress(reservation: ThrottleReservation): void {
    const bucket = this.addresses.get(reservation.attempt.address);
    if (bucket !== undefined) this.addresses.set(reservation.attempt.address, { ...bucket, level: Math.max(0, bucket.level - 1) });
  }

  #giveBackToAccount(reservation: ThrottleReservation): void {
    const account = this.accounts.get(reservation.attempt.account);
    if (reservation.accountGateAt === undefined || account === undefined) return;
    this.accounts.set(reservation.attempt.account, givenBack(account, reservation.accountGateAt, reservation.at));
  }
}

function pairKey(attempt: SignInAttempt): string {
  return `${attempt.account}\n${attempt.address}`;
}

/** One failure fewer; a gate this attempt moved forward back to when it was reserved, unless a later attempt moved it since. */
function givenBack(gate: GateState, movedTo: Date, reservedAt: Date): GateState {
  return { ...gate, failures: Math.max(0, gate.failures - 1), nextAttemptAt: gate.nextAttemptAt.getTime() === movedTo.getTime() && movedTo > reservedAt ? reservedAt : gate.nextAttemptAt };
}
