import { sql } from 'kysely';
import type { Database } from '../../../platform/database/database.ts';
import { createEnvelope, handleOnce, type Envelope, type MessageConsumer } from '../../../platform/messaging/index.ts';
import { inventoryMessages } from '../contract.ts';

/** Helpers for tests that drive inventory through its consumers against a real PostgreSQL database. */

type CommandName = 'reserveStock' | 'releaseStock' | 'commitStock' | 'restock';

/** A command envelope as the orders saga would send it, keyed by order id. */
export function aCommandEnvelope<Payload extends { orderId: string }>(name: CommandName, payload: Payload): Envelope<Payload> {
  return createEnvelope({ ...inventoryMessages[name], key: payload.orderId, payload });
}

/** Delivers one envelope to the consumer subscribed to its type, in its own inbox transaction, as messaging does. */
export function deliver(db: Database, consumers: readonly MessageConsumer[], envelope: Envelope): Promise<'handled' | 'duplicate'> {
  const consumer = consumers.find((candidate) => candidate.types.includes(envelope.type));
  if (consumer === undefined) throw new Error(`no consumer takes ${envelope.type}`);
  return handleOnce(db, consumer.name, envelope, (transaction) => consumer.handle(envelope, transaction));
}

const eventTypes = [
  inventoryMessages.reserved, inventoryMessages.reservationFailed, inventoryMessages.released,
  inventoryMessages.committed, inventoryMessages.commitFailed, inventoryMessages.restocked,
].map((message) => message.type);

/** The events (not commands) inventory queued for an order, in outbox order. */
export async function eventsOf(db: Database, orderId: string): Promise<{ type: string; payload: Record<string, unknown> }[]> {
  const result = await sql<{ type: string; payload: Record<string, unknown> }>`
    select type, payload from messaging.outbox where key = ${orderId} and type = any(${eventTypes}::text[]) order by position`.execute(db);
  return result.rows;
}

/** A SKU's stored stock, or undefined. */
export async function stockOf(db: Database, sku: string): Promise<{ onHand: number; reserved: number } | undefined> {
  const result = await sql<{ onHand: number; reserved: number }>`
    select on_hand as "onHand", reserved from inventory.stock_items where sku = ${sku}`.execute(db);
  return result.rows[0];
}

/** Sets stock directly, for arranging a test. */
export async function putStock(db: Database, sku: string, onHand: number): Promise<void> {
  await sql`
    insert into inventory.stock_items (sku, on_hand) values (${sku}, ${onHand})
    on conflict (sku) do update set on_hand = excluded.on_hand`.execute(db);
}

/** The stored status of an order's reservation, or undefined. */
export async function reservationStatusOf(db: Database, orderId: string): Promise<string | undefined> {
  const result = await sql<{ status: string }>`select status from inventory.reservations where order_id = ${orderId}`.execute(db);
  return result.rows[0]?.status;
}

/** Moves an order's reservation expiry into the past, as if its TTL had run out. */
export async function backdateReservation(db: Database, orderId: string): Promise<void> {
  await sql`update inventory.reservations set expires_at = now() - interval '1 second' where order_id = ${orderId}`.execute(db);
}

/** What `inventory.stock-changed` announced of a SKU, in outbox order. */
export async function stockAnnouncementsOf(db: Database, sku: string): Promise<{ available: number; stockVersion: number }[]> {
  const result = await sql<{ payload: { sku: string; available: number; stockVersion: number } }>`
    select payload from messaging.outbox where key = ${sku} and type = ${inventoryMessages.stockChanged.type} order by position`.execute(db);
  return result.rows.map(({ payload }) => ({ available: payload.available, stockVersion: payload.stockVersion }));
}
