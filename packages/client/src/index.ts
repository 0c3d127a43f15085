// The package's one door: what an integrator imports from `@orderstream/client`.
// `createClient` is the name to use; `createOrderStreamClient` stays for code written before it.
export { createOrderStreamClient as createClient, createOrderStreamClient, type OrderStreamClient, type OrderStreamClientOptions } from './client.ts';
export { Session, tokenExpiry, type SessionOptions, type TokenPair } from './auth.ts';
export { OrderStreamProblem, WaitTimeoutError, problemTypeBase, unwrap, type FieldError } from './errors.ts';
export { newIdempotencyKey, terminalOrderStatuses, type Order, type OrderStatus, type PlaceOrderRequest, type WaitForOrderOptions } from './orders.ts';
export { terminalJobStatuses, type Job, type JobAccepted } from './jobs.ts';
export { items, pages, type CursorPage, type PageReader } from './pages.ts';
export type { WaitOptions } from './polling.ts';
export { mayRetry, retryAfterMs, withRetries, type FetchRequest, type RetryOptions } from './retry.ts';
export type { components, paths } from './openapi-types.ts';
