import type { Money as SharedMoney } from '../../../kernel/money.ts'; // allowed: the shared kernel

export interface Money {
  readonly amount: number;
}

export function money(amount: number): Money {
  return { amount };
}

export type PricedMoney = SharedMoney;
