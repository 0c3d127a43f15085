export interface Money {
  readonly amount: number;
}

export function money(amount: number): Money {
  return { amount };
}
