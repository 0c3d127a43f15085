import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../../../../platform/database/database.ts';
import type { LoginThrottleStore, ThrottleReservation } from '../../application/ports.ts';
import {
  refusalWaitSeconds, type SignInAttempt, type ThrottlePolicy,
} from '../../domain/login-throttle.ts';
import type { IdentityTables } from './identity-tables.ts';

interface DelayLimits { failuresBeforeDelay: number; baseDelaySeconds: number; maxDelaySeconds: number }

/**
 * The domain's `delayAfterFailures` as an SQL expression of `failures`, so a statement applies the
 * policy without carrying a schedule: 0 while failures are free, then the base delay doubled per
 * further failure, capped (the exponent is bounded so the doubling never overflows).
 */
function delayAfter(failures: RawBuilder<unknown>, limits: DelayLimits): RawBuilder<number> {
  return sql<number>`(case when ${failures} < ${limits.failuresBeforeDelay}::int then 0::float8
    else least(${limits.maxDelaySeconds}::float8, ${limits.baseDelaySeconds}::float8 * power(2::float8, least(${failures} - ${limits.failuresBeforeDelay}::int, 60)::float8)) end)`;
}

/** Thrown inside the reserving transaction to roll back what it had counted. */
class Refused extends Error {
  constructor() {
    super('sign-in refused by a budget');
  }
}

/**
 * The sign-in budgets in PostgreSQL, so every process counts the same attempts. Each budget is one
 * row changed by one `insert … on conflict do update … where <within budget>`: the check and the
 * count are one step under the row's lock, and no row back means refused. The three steps of one
 * attempt share a transaction (all counted, or none) and lock rows in one order, pair → account →
 * address (the row every sign-in from one address shares, held only from its statement to the commit), so
 * concurrent attempts never deadlock.
 */
export class PgLoginThrottleStore implements LoginThrottleStore {
  readonly #db: Kysely<IdentityTables>;
  readonly #policy: ThrottlePolicy;
  readonly #pairDelay: DelayLimits;
  readonly #accountDelay: DelayLimits;

  constructor(db: Database, policy: ThrottlePolicy) {
    this.#db = db.$extendTables<IdentityTables>();
    this.#policy = policy;
    this.#pairDelay = policy;
    this.#accountDelay = { failuresBeforeDelay: policy.accountFailuresBeforeDelay, baseDelaySeconds: policy.baseDelaySeconds, maxDelaySeconds: policy.accountMaxDelaySeconds };
  }

  async reserve(attempt: SignInAttempt, now: Date): Promise<ThrottleReservation | { retryAfterSeconds: number }> {
    const policy = this.#policy;
    const forgetBefore = new Date(now.getTime() - policy.forgetAfterSeconds * 1000);
    const drainPerSecond = policy.addressBudget / policy.addressWindowSeconds;
    const pairDelay = (failures: RawBuilder<unknown>) => delayAfter(failures, this.#pairDelay);
    const accountDelay = (failures: RawBuilder<unknown>) => delayAfter(failures, this.#accountDelay);
    const pairFailures = sql`(case when pair.last_attempt_at < ${forgetBefore} then 1 else pair.failures + 1 end)`;
    const accountFailures = sql`((case when gate.last_attempt_at < ${forgetBefore} then 0 else gate.failures end) + 1)`;
    try {
      return await this.#db.transaction().execute(async (transaction): Promise<ThrottleReservation> => {
        const pair = await sql<{ failures: number; next_attempt_at: Date }>`
          insert into identity.login_throttle_pairs as pair (account, address, failures, next_attempt_at, last_attempt_at)
          values (${attempt.account}, ${attempt.address}, 1, ${now}::timestamptz + make_interval(secs => ${pairDelay(sql`1`)}), ${now})
          on conflict (account, address) do update set
            failures = case when pair.last_attempt_at < ${forgetBefore} then 1 else pair.failures + 1 end,
            next_attempt_at = coalesce(${now}::timestamptz + make_interval(secs => nullif(${pairDelay(pairFailures)}, 0)),
              case when pair.last_attempt_at < ${forgetBefore} then ${now}::timestamptz else pair.next_attempt_at end),
            last_attempt_at = greatest(pair.last_attempt_at, ${now}::timestamptz)
          -- Never earlier than the last attempt's clock: concurrent requests read the clock a few
          -- milliseconds apart, and a gate left open at another's "now" must stay open for them.
          where pair.next_attempt_at <= greatest(pair.last_attempt_at, ${now}::timestamptz) or pair.last_attempt_at < ${forgetBefore}
          returning failures, next_attempt_at`.execute(transaction);
        const pairRow = pair.rows[0];
        if (pairRow === undefined) throw new Refused();

        // Only a pair's first failures count for the account: past them, the pair's own delay is what slows it.
        const counts = pairRow.failures <= policy.failuresBeforeDelay ? 1 : 0;
        const account = await sql<{ next_attempt_at: Date }>`
          insert into identity.login_throttle_accounts as gate (account, failures, next_attempt_at, last_attempt_at)
          values (${attempt.account}, ${counts}::int,
            ${now}::timestamptz + make_interval(secs => case when ${counts}::int = 1 then ${accountDelay(sql`1`)} else 0 end), ${now})
          on conflict (account) do update set
            failures = (case when gate.last_attempt_at < ${forgetBefore} then 0 else gate.failures end) + ${counts}::int,
            next_attempt_at = case
              when ${counts}::int = 1 and ${accountDelay(accountFailures)} > 0
              then ${now}::timestamptz + make_interval(secs => ${accountDelay(accountFailures)})
              when gate.last_attempt_at < ${forgetBefore} then ${now}::timestamptz
              else gate.next_attempt_at end,
            last_attempt_at = greatest(gate.last_attempt_at, ${now}::timestamptz)
          where gate.next_attempt_at <= greatest(gate.last_attempt_at, ${now}::timestamptz) or gate.last_attempt_at < ${forgetBefore}
          returning next_attempt_at`.execute(transaction);
        const accountRow = account.rows[0];
        if (accountRow === undefined) throw new Refused();
        // Last: every sign-in from one address takes this row, so it is held for the shortest time.
        const address = await sql<{ level: number }>`
          insert into identity.login_throttle_addresses as bucket (address, level, updated_at) values (${attempt.address}, 1, ${now})
          on conflict (address) do update set
            level = greatest(0, bucket.level - greatest(0, extract(epoch from ${now}::timestamptz - bucket.updated_at)::float8) * ${drainPerSecond}::float8) + 1,
            updated_at = greatest(bucket.updated_at, ${now}::timestamptz)
          where greatest(0, bucket.level - greatest(0, extract(epoch from ${now}::timestamptz - bucket.updated_at)::float8) * ${drainPerSecond}::float8) + 1
            <= ${policy.addressBudget}::float8
          returning level`.execute(transaction);
        if (address.rows.length === 0) throw new Refused();
        return { attempt, at: now, pairGateAt: pairRow.next_attempt_at, accountGateAt: counts === 1 ? accountRow.next_attempt_at : undefined };
      });
    } catch (error) {
      if (!(error instanceof Refused)) throw error;
      return { retryAfterSeconds: await this.#retryAfter(attempt, now) };
    }
  }

  /**
   * How long a refused attempt waits, read after the refusal rolled back: the longest wait of every
   * budget that refuses it, not only of the one that refused first, so the client that comes back then
   * is not refused again by another.
   */
  async #retryAfter(attempt: SignInAttempt, now: Date): Promise<number> {
    // The three budgets in one statement: under an attack, refusals are most of the sign-ins.
    const read = await sql<{
      pair_failures: number | null; pair_next_attempt_at: Date | null; pair_last_attempt_at: Date | null;
      account_failures: number | null; account_next_attempt_at: Date | null; account_last_attempt_at: Date | null;
      level: number | null; updated_at: Date | null;
    }>`
      select pair.failures as pair_failures, pair.next_attempt_at as pair_next_attempt_at, pair.last_attempt_at as pair_last_attempt_at,
        gate.failures as account_failures, gate.next_attempt_at as account_next_attempt_at, gate.last_attempt_at as account_last_attempt_at,
        bucket.level, bucket.updated_at
      from (select 1) as attempt
      left join identity.login_throttle_pairs as pair on pair.account = ${attempt.account} and pair.address = ${attempt.address}
      left join identity.login_throttle_accounts as gate on gate.account = ${attempt.account}
      left join identity.login_throttle_addresses as bucket on bucket.address = ${attempt.address}`.execute(this.#db);
    const row = read.rows[0];
    const gate = (failures: number | null | undefined, nextAttemptAt: Date | null | undefined, lastAttemptAt: Date | null | undefined) =>
      (failures == null || nextAttemptAt == null || lastAttemptAt == null ? undefined : { failures, nextAttemptAt, lastAttemptAt });
    const wait = refusalWaitSeconds({
      pair: gate(row?.pair_failures, row?.pair_next_attempt_at, row?.pair_last_attempt_at),
      account: gate(row?.account_failures, row?.account_next_attempt_at, row?.account_last_attempt_at),
      address: row?.level == null || row.updated_at === null ? undefined : { level: row.level, updatedAt: row.updated_at },
    }, now, this.#policy);
    // The budgets may have reopened between the refusal and this read: the client just tries again.
    return wait ?? 1;
  }

  async succeed(reservation: ThrottleReservation): Promise<void> {
    await this.#db.transaction().execute(async (transaction) => {
      await sql`delete from identity.login_throttle_pairs where account = ${reservation.attempt.account} and address = ${reservation.attempt.address}`
        .execute(transaction);
      await this.#giveBackToAccount(transaction, reservation);
      await sql`update identity.login_throttle_addresses set level = greatest(0, level - 1) where address = ${reservation.attempt.address}`.execute(transaction);
    });
  }

  async release(reservation: ThrottleReservation): Promise<void> {
    // Rows in the order every transaction here takes them (pair → account → address), or two
    // sign-ins sharing an address deadlock.
    await this.#db.transaction().execute(async (transaction) => {
      await sql`
        update identity.login_throttle_pairs set failures = greatest(0, failures - 1),
          next_attempt_at = case when next_attempt_at = ${reservation.pairGateAt} and next_attempt_at > ${reservation.at} then ${reservation.at} else next_attempt_at end
        where account = ${reservation.attempt.account} and address = ${reservation.attempt.address}`.execute(transaction);
      await this.#giveBackToAccount(transaction, reservation);
      await sql`update identity.login_throttle_addresses set level = greatest(0, level - 1) where address = ${reservation.attempt.address}`.execute(transaction);
    });
  }

  async #giveBackToAccount(transaction: Kysely<IdentityTables>, reservation: ThrottleReservation): Promise<void> {
    if (reservation.accountGateAt === undefined) return;
    await sql`
      update identity.login_throttle_accounts set failures = greatest(0, failures - 1),
        next_attempt_at = case when next_attempt_at = ${reservation.accountGateAt} and next_attempt_at > ${reservation.at} then ${reservation.at} else next_attempt_at end
      where account = ${reservation.attempt.account}`.execute(transaction);
  }

  async forgive(account: string): Promise<void> {
    await this.#db.transaction().execute(async (transaction) => {
      await transaction.deleteFrom('identity.login_throttle_pairs').where('account', '=', account).execute();
      await transaction.deleteFrom('identity.login_throttle_accounts').where('account', '=', account).execute();
    });
  }

  async prune(now: Date): Promise<number> {
    const forgetBefore = new Date(now.getTime() - this.#policy.forgetAfterSeconds * 1000);
    const drainPerSecond = this.#policy.addressBudget / this.#policy.addressWindowSeconds;
    let deleted = 0;
    for (const table of ['identity.login_throttle_pairs', 'identity.login_throttle_accounts'] as const) {
      const result = await this.#db.deleteFrom(table)
        .where((eb) => eb.or([eb('last_attempt_at', '<', forgetBefore), eb.and([eb('failures', '=', 0), eb('next_attempt_at', '<=', now)])]))
        .executeTakeFirst();
      deleted += Number(result.numDeletedRows);
    }
    const drained = await sql`
      delete from identity.login_throttle_addresses
      where level - greatest(0, extract(epoch from ${now}::timestamptz - updated_at)::float8) * ${drainPerSecond}::float8 <= 0`.execute(this.#db);
    return deleted + Number(drained.numAffectedRows ?? 0n);
  }
}
