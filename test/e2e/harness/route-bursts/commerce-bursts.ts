import { randomBytes } from 'node:crypto';
import Stripe from 'stripe';
import type { BurstKit, RouteBurst } from './burst-kit.ts';
import { at, loadRunSettings, run } from './load-run.ts';

/** The catalogue, public and internal. */
export function catalogueBursts({ simple }: BurstKit): RouteBurst[] {
  return [
    simple('GET /v1/products', [200], (_fixture, index) => ({
      method: 'GET', path: ['/v1/products', `/v1/products?limit=${String(1 + index)}`, '/v1/products?q=Load', `/v1/products?minPrice=1000&maxPrice=${String(1005 + index)}`][index % 4] ?? '/v1/products',
    })),
    simple('GET /v1/products/:id', [200], ({ products }, index) => ({ method: 'GET', path: `/v1/products/${at(products, index).id}` })),
    simple('POST /v1/products', [201], ({ admin }, index) => ({
      method: 'POST', path: '/v1/products', token: admin,
      json: { sku: `LOAD-${run}-NEW${String(index)}`, name: `New load product ${String(index)}`, description: 'Made under load', price: { amount: 500 + index, currency: 'EUR' } },
    })),
    simple('PATCH /v1/products/:id', [200], ({ admin, products }, index) => ({
      method: 'PATCH', path: `/v1/products/${at(products, index).id}`, token: admin, json: { description: `Changed under load (${String(index)})` },
    })),
    simple('POST /internal/v1/catalog/product-snapshots', [200], ({ serviceToken, products }, index) => ({
      method: 'POST', path: '/internal/v1/catalog/product-snapshots', token: serviceToken, json: { skus: [at(products, index).sku, at(products, index + 1).sku] },
    })),
    simple('PUT /internal/v1/catalog/products/:sku', [200], ({ serviceToken }, index) => ({
      method: 'PUT', path: `/internal/v1/catalog/products/LOAD-${run}-SVC${String(index)}`, token: serviceToken,
      json: { name: `Service product ${String(index)}`, description: '', price: { amount: 700 + index, currency: 'EUR' } },
    })),
    simple('PUT /internal/v1/catalog/product-batches/:key', [200], ({ serviceToken }, index) => ({
      method: 'PUT', path: `/internal/v1/catalog/product-batches/load-${run}-${String(index % 4)}`, token: serviceToken,
      json: { products: [0, 1].map((item) => ({ sku: `LOAD-${run}-BATCH${String(index % 4)}-${String(item)}`, name: `Batch product ${String(item)}`, description: '', price: { amount: 800 + item, currency: 'EUR' } })) },
    })),
  ];
}

/** Stock levels, public, admin and internal. */
export function inventoryBursts({ simple }: BurstKit): RouteBurst[] {
  return [
    simple('GET /v1/inventory/:sku', [200], ({ admin, products }, index) => ({ method: 'GET', path: `/v1/inventory/${at(products, index).sku}`, token: admin })),
    simple('PUT /v1/inventory/:sku', [200], ({ admin, products }, index) => ({
      method: 'PUT', path: `/v1/inventory/${at(products, index).sku}`, token: admin, json: { onHand: 10_000 + index },
    })),
    simple('GET /v1/admin/stock-levels', [200], ({ admin }, index) => ({
      method: 'GET', path: ['/v1/admin/stock-levels', `/v1/admin/stock-levels?below=${String(1 + (index % 50))}`, `/v1/admin/stock-levels?limit=${String(1 + (index % 100))}`][index % 3] ?? '',
      token: admin,
    })),
    simple('PUT /internal/v1/inventory/stock-levels/:sku', [200], ({ serviceToken }, index) => ({
      method: 'PUT', path: `/internal/v1/inventory/stock-levels/LOAD-${run}-SVC${String(index)}`, token: serviceToken, json: { onHand: 50 + index },
    })),
    simple('PUT /internal/v1/inventory/stock-level-batches/:key', [200], ({ serviceToken }, index) => ({
      method: 'PUT', path: `/internal/v1/inventory/stock-level-batches/load-${run}-${String(index % 4)}`, token: serviceToken,
      json: { levels: [0, 1].map((item) => ({ sku: `LOAD-${run}-BATCH${String(index % 4)}-${String(item)}`, onHand: 60 + item })) },
    })),
  ];
}

/** Placing, reading and cancelling orders, each as its owner; an admin's reads of every order and of the summary. */
export function orderBursts({ simple }: BurstKit): RouteBurst[] {
  return [
    simple('POST /v1/orders', [202], ({ customers, products }, index) => ({
      method: 'POST', path: '/v1/orders', token: at(customers, index).token, headers: { 'idempotency-key': crypto.randomUUID() },
      json: { items: [{ sku: at(products, index).sku, quantity: 1 + (index % 3) }], payment: { token: 'tok_visa' } },
    })),
    simple('GET /v1/orders', [200], ({ customers }, index) => ({ method: 'GET', path: `/v1/orders?limit=${String(1 + (index % 5))}`, token: at(customers, index).token })),
    simple('GET /v1/orders/:id', [200], ({ orders }, index) => ({ method: 'GET', path: `/v1/orders/${at(orders, index).id}`, token: at(orders, index).token })),
    simple('GET /v1/orders/:id/invoice', [200, 404], ({ orders }, index) => ({ method: 'GET', path: `/v1/orders/${at(orders, index).id}/invoice`, token: at(orders, index).token })),
    simple('POST /v1/orders/:id/cancel', [202], ({ orders }, index) => ({ method: 'POST', path: `/v1/orders/${at(orders, index).id}/cancel`, token: at(orders, index).token })),
    simple('GET /v1/admin/orders', [200], ({ admin, products }, index) => ({
      method: 'GET', token: admin,
      path: [
        '/v1/admin/orders', '/v1/admin/orders?status=CONFIRMED', `/v1/admin/orders?sku=${at(products, index).sku}`,
        `/v1/admin/orders?from=${new Date(Date.now() - 3_600_000).toISOString()}&limit=${String(1 + (index % 100))}`,
      ][index % 4] ?? '',
    })),
    simple('GET /v1/admin/summary', [200], ({ admin }) => ({ method: 'GET', path: '/v1/admin/summary', token: admin })),
    simple('POST /internal/v1/orders/export-pages', [200], ({ serviceToken }, index) => ({
      method: 'POST', path: '/internal/v1/orders/export-pages', token: serviceToken,
      json: { filter: index % 2 === 0 ? {} : { status: 'CONFIRMED' }, placedBefore: new Date().toISOString(), limit: 1 + (index % 50), count: index % 3 === 0 },
    })),
  ];
}

/** The payment provider's signed callbacks. */
export function paymentCallbackBursts({ simple }: BurstKit): RouteBurst[] {
  return [
    simple('POST /v1/payments/stripe/webhook', [200], (_fixture, index) => {
      const payload = JSON.stringify({
        id: `evt_load_${run}_${String(index)}_${randomBytes(4).toString('hex')}`, object: 'event', type: 'payment_intent.amount_capturable_updated',
        api_version: '2025-01-01', created: Math.floor(Date.now() / 1000), livemode: false,
        data: { object: { id: `pi_load_${String(index)}`, object: 'payment_intent', amount: 1000, currency: 'eur', status: 'requires_capture' } },
      });
      const signature = Stripe.webhooks.generateTestHeaderString({ payload, secret: loadRunSettings.STRIPE_WEBHOOK_SECRET });
      return { method: 'POST', path: '/v1/payments/stripe/webhook', headers: { 'content-type': 'application/json', 'stripe-signature': signature }, body: payload };
    }),
  ];
}
