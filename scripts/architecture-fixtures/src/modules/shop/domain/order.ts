import { money, type Money } from './money.ts'; // allowed: same module's domain/
import type { OrderPlacedV1 } from '../contract.ts'; // VIOLATION domain-purity: another folder
import { randomUUID } from 'node:crypto'; // VIOLATION domain-purity: node builtin
import { z } from 'zod'; // VIOLATION domain-purity: npm package

export interface Order {
  readonly id: string;
  readonly total: Money;
}

export function createOrder(amount: number): Order {
  z.number().parse(amount);
  return { id: randomUUID(), total: money(amount) };
}

export type PlacedPayload = OrderPlacedV1;
