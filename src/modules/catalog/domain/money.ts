import { InvalidProductError } from './product.errors.ts';

/** An amount of money in integer minor units (cents) of an ISO 4217 currency; never a float. */
export interface Money {
  readonly amount: number;
  readonly currency: string;
}

const knownCurrencies = new Set(Intl.supportedValuesOf('currency'));

/** Largest amount accepted: fits a PostgreSQL bigint and a JavaScript safe integer. */
export const maxMoneyAmount = Number.MAX_SAFE_INTEGER;

/** Validates and builds a Money; `field` names the input in the error. */
export function money(amount: number, currency: string, field = 'price'): Money {
  if (!Number.isSafeInteger(amount)) throw new InvalidProductError(`${field}.amount`, 'must be a whole number of minor units (e.g. cents)');
  if (amount < 0) throw new InvalidProductError(`${field}.amount`, 'must not be negative');
  if (!/^[A-Z]{3}$/.test(currency) || !knownCurrencies.has(currency)) {
    throw new InvalidProductError(`${field}.currency`, `"${currency}" is not an ISO 4217 currency code`);
  }
  return { amount, currency };
}

export function sameMoney(a: Money, b: Money): boolean {
  return a.amount === b.amount && a.currency === b.currency;
}
