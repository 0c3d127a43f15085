import { z } from 'zod';

/** Placing orders: idempotency keys, saga step timeouts, admission control and stock reservations. */
export const orderVariables = {
  IDEMPOTENCY_KEY_TTL_HOURS: z.coerce.number().int().min(1).max(24 * 30).default(24)
    .describe('How long an `Idempotency-Key` of `POST /v1/orders` is remembered per customer.'),
  IDEMPOTENCY_TAKEOVER_SECONDS: z.coerce.number().int().min(1).max(24 * 3600).default(60)
    .describe('An `Idempotency-Key` left claimed in progress (by versions before 2026-12-06, which claimed a key before placing its order) counts as crashed after this long: a request with the key then takes it over. Keys are now taken by the statement that places the order, which leaves no claim behind.'),
  SAGA_STEP_TIMEOUT_MS: z.coerce.number().int().min(100).max(3_600_000).default(30_000)
    .describe('How long an order waits for one saga step (reservation, authorisation, capture) before compensating.'),
  ORDER_BACKLOG_LIMIT: z.coerce.number().int().min(0).max(10_000_000).default(5000)
    .describe('Unfinished orders (accepted, not yet CONFIRMED or CANCELLED) at which `POST /v1/orders` refuses new orders with 503 and Retry-After until the sagas catch up; 0 turns the refusal off.'),
  ORDER_BACKLOG_SECONDS: z.coerce.number().min(0).max(3600).default(0)
    .describe('When above 0, new orders are also refused once the unfinished ones are more than the orders that finished per second over the last 10 s times this (at least 100 until 100 orders finished in those 10 s): accepted orders then wait about this long at most, whatever the machine manages. 0: only ORDER_BACKLOG_LIMIT applies.'),
  RESERVATION_TTL_SECONDS: z.coerce.number().int().min(1).max(7 * 24 * 3600).default(900)
    .describe('An unconfirmed stock reservation is released by itself after this long.'),
};
