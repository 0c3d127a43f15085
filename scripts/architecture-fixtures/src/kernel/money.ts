// The shared kernel: pure values every module means the same by. It imports only the kernel.
export interface Money {
  readonly amount: number;
  readonly currency: string;
}

export function sameMoney(a: Money, b: Money): boolean {
  return a.amount === b.amount && a.currency === b.currency;
}
