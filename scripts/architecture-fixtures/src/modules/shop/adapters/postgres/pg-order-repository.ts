import type { Kysely } from 'kysely'; // allowed: adapters may use npm packages
import type { OrderRepository } from '../../application/ports.ts'; // allowed: adapters use application/
import type { Order } from '../../domain/order.ts'; // allowed: adapters use domain/
import { appendToOutbox } from '../../../../platform/messaging/index.ts'; // allowed: adapters use platform

export class PgOrderRepository implements OrderRepository {
  readonly database: Kysely<object>;

  constructor(database: Kysely<object>) {
    this.database = database;
  }

  async save(order: Order): Promise<void> {
    await appendToOutbox(order.id);
  }
}
