import { moneyProblem, type Money } from '../../../kernel/money.ts';
import { InvalidProductError } from './product.errors.ts';

export { sameMoney, type Money } from '../../../kernel/money.ts';

/** Largest amount accepted: fits a PostgreSQL bigint and a JavaScript safe integer. */
export const maxMoneyAmount = Number.MAX_SAFE_INTEGER;

/** Validates and builds a Money; `field` names the input in the error. */
export function money(amount: number, currency: string, field = 'price'): Money {
  const problem = moneyProblem(amount, currency);
  if (problem !== undefined) throw new InvalidProductError(`${field}.${problem.part}`, problem.message);
  return { amount, currency };
}
