/**
 * An amount of money in integer minor units (cents) of an ISO 4217 currency; never a float. Every
 * module means the same by it, and `{ amount, currency }` is also its shape on the wire.
 */
export interface Money {
  readonly amount: number;
  readonly currency: string;
}

/** Which part of an amount is wrong and why; each module raises it as its own typed error. */
export interface MoneyProblem {
  readonly part: 'amount' | 'currency';
  readonly message: string;
}

const knownCurrencies = new Set(Intl.supportedValuesOf('currency'));
const minorDigitsByCurrency = new Map<string, number>();

/** Whether `code` is an upper-case ISO 4217 code this runtime knows (`EUR`, not `eur` or `EURO`). */
export function isCurrencyCode(code: string): boolean {
  return /^[A-Z]{3}$/.test(code) && knownCurrencies.has(code);
}

/**
 * Why `amount` and `currency` make no valid Money, or undefined when they do: the amount must be a
 * whole, non-negative number of minor units a JavaScript number and a PostgreSQL bigint hold exactly.
 */
export function moneyProblem(amount: number, currency: string): MoneyProblem | undefined {
  if (!Number.isSafeInteger(amount)) return { part: 'amount', message: 'must be a whole number of minor units (e.g. cents)' };
  if (amount < 0) return { part: 'amount', message: 'must not be negative' };
  if (!isCurrencyCode(currency)) return { part: 'currency', message: `"${currency}" is not an ISO 4217 currency code` };
  return undefined;
}

export function sameMoney(a: Money, b: Money): boolean {
  return a.amount === b.amount && a.currency === b.currency;
}

/** How many minor-unit digits `currency` has (EUR 2, JPY 0, KWD 3); throws a RangeError for a malformed code. */
export function minorUnitDigits(currency: string): number {
  let digits = minorDigitsByCurrency.get(currency);
  if (digits === undefined) {
    const format = new Intl.NumberFormat('en', { style: 'currency', currency });
    digits = format.resolvedOptions().maximumFractionDigits ?? 2;
    minorDigitsByCurrency.set(currency, digits);
  }
  return digits;
}
