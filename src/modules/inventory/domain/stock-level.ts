import { InvalidStockError } from './inventory.errors.ts';

/** The stock of one SKU: units on the shelf and how many of them are promised to orders. */
export interface StockLevel {
  readonly sku: string;
  readonly onHand: number;
  /** Never negative and never above `onHand` (the database enforces both as well). */
  readonly reserved: number;
}

/** Largest on-hand count an admin may set. */
export const maxOnHand = 1_000_000_000;

/** Units that can still be reserved. */
export function availableOf(level: StockLevel): number {
  return level.onHand - level.reserved;
}

/** Validates an on-hand count an admin sets: a whole number from 0 to `maxOnHand`. */
export function validOnHand(onHand: number): number {
  if (!Number.isSafeInteger(onHand)) throw new InvalidStockError('onHand', 'must be a whole number');
  if (onHand < 0) throw new InvalidStockError('onHand', 'must not be negative');
  if (onHand > maxOnHand) throw new InvalidStockError('onHand', `must be at most ${maxOnHand}`);
  return onHand;
}

/** Whether on-hand stock may be set to `onHand`: never below what is already reserved. */
export function canSetOnHand(level: StockLevel | undefined, onHand: number): boolean {
  return level === undefined || onHand >= level.reserved;
}
