import { createOrder } from '../domain/order.ts'; // allowed: own domain/
import type { OrderRepository } from './ports.ts'; // allowed: own application/
import type { OrderPlacedV1 } from '../contract.ts'; // allowed: own contract.ts
import { PgOrderRepository } from '../adapters/postgres/pg-order-repository.ts'; // VIOLATION application-layer: adapter
import { createLogger } from '../../../platform/logging/logger.ts'; // VIOLATION application-layer: platform
import { setTimeout } from 'node:timers/promises'; // VIOLATION application-layer: node builtin
import { z } from 'zod'; // VIOLATION application-layer: npm package

export async function placeOrder(repository: OrderRepository, amount: number): Promise<OrderPlacedV1> {
  const order = createOrder(z.number().parse(amount));
  await setTimeout(0);
  createLogger().info('placing');
  await (repository instanceof PgOrderRepository ? repository : repository).save(order);
  return { orderId: order.id };
}
