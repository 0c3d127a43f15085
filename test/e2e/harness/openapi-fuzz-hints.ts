import fc from 'fast-check';
import { routePolicies } from '../../../src/apps/gateway/route-policies.ts';
import { multipartBody, type CallerKind, type FuzzAccess, type FuzzHints, type FuzzOperation, type FuzzRequest, type FuzzResponse } from './openapi-fuzz.ts';

/**
 * What the OpenAPI fuzzer is told about OrderStream beyond its document: real records to point
 * valid requests at (so success paths run and their answers are checked), who may call each route,
 * and which refusals are allowed to write a row.
 */

/** Records made before fuzzing, and the credentials of the callers. */
export interface KnownData {
  sku: string;
  productId: string;
  productCursor: string;
  orderId: string;
  orderCursor: string;
  jobId: string;
  webhookId: string;
  customerEmail: string;
  customerPassword: string;
  refreshToken: string;
  service: { clientId: string; clientSecret: string } | undefined;
}

/** Access tokens of each kind of caller; `service` only where a service client can be made. */
export interface FuzzTokens {
  customer: string;
  admin: string;
  service: string | undefined;
}

const importHeader = 'sku,name,description,price,currency,stock';

/** The webhook receiver every generated endpoint points to: loopback, where nothing listens (port 9, discard). */
export const unreachableWebhookUrl = 'http://127.0.0.1:9/hooks';

/** A CSV import upload with one valid row. */
export function importUpload(row: string): { contentType: string; payload: Buffer } {
  return multipartBody({ label: 'valid CSV', field: 'file', filename: 'products.csv', contentType: 'text/csv', content: `${importHeader}\r\n${row}\r\n` });
}

/**
 * Makes, through the API as `send` reaches it, a product with stock, two orders, a webhook endpoint
 * and an import job, and reads a next-page cursor of products and of orders.
 */
export async function seedKnownData(
  send: (request: FuzzRequest) => Promise<FuzzResponse>, tokens: FuzzTokens,
  customer: { email: string; password: string; refreshToken: string }, service: KnownData['service'],
): Promise<KnownData> {
  const call = async (method: string, url: string, token: string | undefined, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await send({
      method, url,
      headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { payload: JSON.stringify(body) }),
    });
    if (response.statusCode >= 300) throw new Error(`seeding: ${method} ${url} answered ${response.statusCode} ${response.body}`);
    return JSON.parse(response.body) as Record<string, unknown>;
  };
  const sku = 'FUZZ-1';
  const product = await call('POST', '/v1/products', tokens.admin, { sku, name: 'Fuzz', price: { amount: 100, currency: 'EUR' } });
  await call('POST', '/v1/products', tokens.admin, { sku: 'FUZZ-2', name: 'Fuzz 2', price: { amount: 200, currency: 'EUR' } });
  await call('PUT', `/v1/inventory/${sku}`, tokens.admin, { onHand: 1_000_000 });
  const orderIds: string[] = [];
  for (let index = 0; index < 2; index += 1) {
    const order = await call('POST', '/v1/orders', tokens.customer, { items: [{ sku, quantity: 1 }], payment: { token: 'tok_visa' } }, { 'idempotency-key': `fuzz-seed-${index}` });
    orderIds.push(String(order.id));
  }
  const webhook = await call('POST', '/v1/admin/webhooks', tokens.admin, { url: unreachableWebhookUrl, events: ['orders.confirmed'] });
  const upload = importUpload('FUZZ-3,Seeded,,300,EUR,1');
  const job = await send({ method: 'POST', url: '/v1/imports', headers: { authorization: `Bearer ${tokens.admin}`, 'content-type': upload.contentType }, payload: upload.payload });
  if (job.statusCode !== 202) throw new Error(`seeding: the import answered ${job.statusCode} ${job.body}`);
  const productPage = await call('GET', '/v1/products?limit=1', undefined);
  const orderPage = await call('GET', '/v1/orders?limit=1', tokens.customer);
  return {
    sku, productId: String(product.id), productCursor: String(productPage.nextCursor), orderId: orderIds[0] ?? '', orderCursor: String(orderPage.nextCursor),
    jobId: (JSON.parse(job.body) as { id: string }).id, webhookId: String(webhook.id),
    customerEmail: customer.email, customerPassword: customer.password, refreshToken: customer.refreshToken, service,
  };
}

/** Values that reach real records and pass the domain's rules, mixed by the fuzzer with values from the schemas. */
export function fuzzHints(known: KnownData): FuzzHints {
  const file = (label: string, content: string | Uint8Array, overrides: { field?: string; filename?: string; contentType?: string } = {}) => ({
    label, field: overrides.field ?? 'file', filename: overrides.filename ?? 'products.csv', contentType: overrides.contentType ?? 'text/csv', content,
  });
  const byId = (id: string) => ({ id: fc.constant(id) });
  return {
    byName: {
      sku: fc.oneof(fc.constant(known.sku), fc.stringMatching(/^[A-Z][A-Z0-9._-]{0,20}$/)),
      email: fc.oneof(fc.constant(known.customerEmail), fc.emailAddress()),
      password: fc.constantFrom('a long enough passphrase', known.customerPassword),
      token: fc.constantFrom('tok_visa', 'tok_declined', 'tok_insufficient_funds'),
      currency: fc.constantFrom('EUR', 'USD'),
      url: fc.constantFrom(unreachableWebhookUrl, 'http://127.0.0.1:9/other?x=1'),
      refreshToken: fc.constantFrom(known.refreshToken, 'not-a-refresh-token'),
      ...(known.service === undefined ? {} : {
        client_id: fc.constant(known.service.clientId),
        client_secret: fc.constantFrom(known.service.clientSecret, 'wrong-secret'),
      }),
      'idempotency-key': fc.uuid(),
    },
    byOperation: {
      'GET /v1/products/{id}': byId(known.productId),
      'PATCH /v1/products/{id}': byId(known.productId),
      'GET /v1/products': { cursor: fc.constant(known.productCursor) },
      'GET /v1/orders': { cursor: fc.constant(known.orderCursor) },
      'POST /v1/orders': {
        items: fc.constantFrom([{ sku: known.sku, quantity: 1 }], [{ sku: known.sku, quantity: 2 }, { sku: 'FUZZ-2', quantity: 1 }], [{ sku: known.sku.toLowerCase(), quantity: 1000 }]),
      },
      'GET /v1/orders/{id}': byId(known.orderId),
      'POST /v1/orders/{id}/cancel': byId(known.orderId),
      'GET /v1/orders/{id}/invoice': byId(known.orderId),
      'GET /v1/jobs/{id}': byId(known.jobId),
      'GET /v1/jobs/{id}/errors.csv': byId(known.jobId),
      'POST /v1/jobs/{id}/cancel': byId(known.jobId),
      'DELETE /v1/admin/webhooks/{id}': byId(known.webhookId),
    },
    sweepUnique: {
      'POST /v1/products': { sku: (index: number) => `SWEEP-${index}` },
      'POST /v1/auth/register': { email: (index: number) => `sweep-${index}@example.com` },
    },
    multipart: {
      'POST /v1/imports': {
        validFile: file('valid CSV', `${importHeader}\r\nFUZZ-IMPORTED,Imported,,100,EUR,5\r\n`),
        invalidFiles: [
          file('wrong header', 'a,b,c\r\n1,2,3\r\n'),
          file('empty file', ''),
          file('NUL bytes', `${importHeader}\r\nA\u0000B,N\u0000,,1,EUR,1\r\n`),
          file('bytes that are not UTF-8', Uint8Array.from([0xff, 0xfe, 0x00, 0xc0, 0xaf, 0x0a])),
          file('unclosed quote', `${importHeader}\r\n"FUZZ,unclosed\r\n`),
          file('a PDF', '%PDF-1.4\n', { filename: 'products.pdf', contentType: 'application/pdf' }),
          file('the wrong part name', `${importHeader}\r\n`, { field: 'document' }),
          file('100 kB header line', 'a'.repeat(100 * 1024)),
          file('a NUL in the file name', `${importHeader}\r\n`, { filename: 'pro\u0000ducts.csv', contentType: 'application/octet-stream' }),
        ],
      },
    },
  };
}

/** The route policy's access for an operation of the document. */
export function accessOf(operation: FuzzOperation): FuzzAccess {
  const policy = routePolicies.find((candidate) => candidate.method === operation.method && candidate.url === operation.route);
  if (policy === undefined) throw new Error(`no route policy for ${operation.key}`);
  return policy.access;
}

/**
 * Headers of each kind of caller for a route of `access`: `other` holds a real token of a role the
 * route refuses (a customer's for admin routes, a service's for customer routes, or, where no
 * service client can be made, the customer's refresh token, a real credential of the wrong kind);
 * `forged` is the customer's token with its claims rewritten to an admin's and its signature kept.
 */
export function callersFor(tokens: FuzzTokens, refreshToken: string): (access: FuzzAccess) => Record<CallerKind, Record<string, string>> {
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
  const [header, , signature] = tokens.customer.split('.');
  const claims = Buffer.from(JSON.stringify({ sub: 'admin-1', roles: ['customer', 'admin'], exp: 4_102_444_800 })).toString('base64url');
  const forged = bearer(`${header ?? ''}.${claims}.${signature ?? ''}`);
  const notCustomer = bearer(tokens.service ?? refreshToken);
  return (access) => {
    const right = { public: {}, customer: bearer(tokens.customer), admin: bearer(tokens.admin), service: tokens.service === undefined ? forged : bearer(tokens.service) }[access];
    const wrong = { public: bearer(tokens.customer), customer: notCustomer, admin: bearer(tokens.customer), service: bearer(tokens.customer) }[access];
    return { required: right, other: wrong, anonymous: {}, forged };
  };
}

/**
 * A refused sign-in is recorded on purpose: the sign-in throttle counts it in its `login_throttle_*` rows.
 * A refused refresh with a used token is theft detection: it revokes the family's access tokens in
 * `identity.token_revocations` on purpose. No other refusal may change a row count.
 */
export function mayChange(operation: FuzzOperation, statusCode: number, table: string): boolean {
  if (operation.key === 'POST /v1/auth/refresh' && statusCode === 401 && table === 'identity.token_revocations') return true;
  return operation.key === 'POST /v1/auth/login' && statusCode === 401 && table.startsWith('identity.login_throttle_');
}
