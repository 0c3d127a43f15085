import type { Money } from '../../../kernel/money.ts';
import { InvalidOrderError } from './order.errors.ts';

export type { Money } from '../../../kernel/money.ts';

/** `price × quantity`, refusing results that are not exact integers. */
export function multiply(price: Money, quantity: number): Money {
  const amount = price.amount * quantity;
  if (!Number.isSafeInteger(amount)) throw new InvalidOrderError('items', 'total is too large');
  return { amount, currency: price.currency };
}

/** The sum of amounts in one currency; mixing currencies is a rule violation, not a conversion. */
export function sum(amounts: readonly Money[]): Money {
  const first = amounts[0];
  if (first === undefined) throw new InvalidOrderError('items', 'must not be empty');
  let total = 0;
  for (const money of amounts) {
    if (money.currency !== first.currency) throw new InvalidOrderError('items', 'must all be priced in one currency');
    total += money.amount;
    if (!Number.isSafeInteger(total)) throw new InvalidOrderError('items', 'total is too large');
  }
  return { amount: total, currency: first.currency };
}
