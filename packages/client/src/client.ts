import createClient, { type Client } from 'openapi-fetch';
import { Session, type SessionOptions } from './auth.ts';
import { getJob, importCatalog, listJobs, waitForJob } from './jobs.ts';
import type { paths } from './openapi-types.ts';
import { getOrder, listOrders, placeOrder, waitForOrder } from './orders.ts';
import { withRetries, type FetchRequest, type RetryOptions } from './retry.ts';

export interface OrderStreamClientOptions extends SessionOptions {
  /** Where the API is, e.g. `http://127.0.0.1:8080`. */
  baseUrl: string;
  /** Default: the global fetch (Node 22+, browsers). */
  fetch?: FetchRequest;
  /** Retries of idempotent calls on 429/503 and network failures; `false` for none. */
  retry?: RetryOptions | false;
}

/**
 * A client of the OrderStream API. `api` is the typed client of every route of /openapi.json
 * (openapi-fetch); the rest are the flows every integrator needs: signing in and staying signed
 * in, placing an order safely, waiting for it, paging, importing a catalogue.
 *
 * @example
 * const orderstream = createOrderStreamClient({ baseUrl: 'http://127.0.0.1:8080' });
 * await orderstream.signIn('customer@demo.orderstream.local', 'demo-customer-orderstream-2026');
 * const { order } = await orderstream.placeOrder({ items: [{ sku: 'MUG-BLUE', quantity: 1 }], payment: { token: 'tok_visa' } });
 * const done = await orderstream.waitForOrder(order.id, { until: 'terminal' });
 */
export function createOrderStreamClient(options: OrderStreamClientOptions) {
  const plain: FetchRequest = options.fetch ?? ((request) => globalThis.fetch(request));
  const fetch = options.retry === false ? plain : withRetries(plain, options.retry);
  const session = new Session(createClient<paths>({ baseUrl: options.baseUrl, fetch }), options);
  const api: Client<paths> = createClient<paths>({ baseUrl: options.baseUrl, fetch });
  api.use(session.middleware);
  return {
    api,
    session,
    signIn: (email: string, password: string) => session.signIn(email, password),
    signOut: () => session.signOut(),
    placeOrder: (...args: Tail<Parameters<typeof placeOrder>>) => placeOrder(api, ...args),
    getOrder: (id: string) => getOrder(api, id),
    waitForOrder: (...args: Tail<Parameters<typeof waitForOrder>>) => waitForOrder(api, ...args),
    orders: (...args: Tail<Parameters<typeof listOrders>>) => listOrders(api, ...args),
    importCatalog: (...args: Tail<Parameters<typeof importCatalog>>) => importCatalog(api, ...args),
    getJob: (id: string) => getJob(api, id),
    waitForJob: (...args: Tail<Parameters<typeof waitForJob>>) => waitForJob(api, ...args),
    jobs: (...args: Tail<Parameters<typeof listJobs>>) => listJobs(api, ...args),
  };
}

export type OrderStreamClient = ReturnType<typeof createOrderStreamClient>;

type Tail<List extends readonly unknown[]> = List extends readonly [unknown, ...infer Rest] ? Rest : never;
