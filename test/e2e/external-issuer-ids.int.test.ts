import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { sql } from 'kysely';
import { startFulfilment, type FulfilmentHarness } from './harness/fulfilment-harness.ts';

// Two external issuers on one host and port (two tenants of one OpenID provider), both trusted by the
// whole single process: the same subject from each is a different customer, through the edge, the
// orders module and its table.

const audience = 'orderstream-tenants';
const tenants = ['tenant-a', 'tenant-b'] as const;
type Tenant = typeof tenants[number];
let harness: FulfilmentHarness;
let issuerServer: Server;
let base: string;
const keys = new Map<Tenant, { privateKey: CryptoKey; publicJwk: JWK }>();

before(async () => {
  for (const tenant of tenants) {
    const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
    keys.set(tenant, { privateKey, publicJwk: { ...await exportJWK(publicKey), kid: `${tenant}-1`, alg: 'ES256', use: 'sig' } });
  }
  issuerServer = createServer((request, response) => {
    const tenant = tenants.find((name) => request.url === `/${name}/certs`);
    if (tenant === undefined) response.writeHead(404).end();
    else response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [keys.get(tenant)?.publicJwk] }));
  });
  await new Promise<void>((resolve) => issuerServer.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(issuerServer.address() as AddressInfo).port}`;
  harness = await startFulfilment({
    DEV_IDENTITY_HEADERS: 'false',
    EXTERNAL_OIDC_ISSUERS: JSON.stringify(tenants.map((tenant) => ({ issuer: `${base}/${tenant}`, jwksUrl: `${base}/${tenant}/certs`, audience, rolesClaim: 'roles', roleMapping: {} }))),
  }, { registerWebhook: false });
  const { admin } = await harness.orderstream.identity.seedDemoUsers();
  const login = await harness.orderstream.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { email: admin.email, password: admin.password } });
  const asAdmin = { authorization: `Bearer ${login.json<{ accessToken: string }>().accessToken}` };
  assert.equal((await harness.orderstream.app.inject({ method: 'POST', url: '/v1/products', headers: asAdmin, payload: { sku: 'TENANT-1', name: 'Tenant mug', price: { amount: 100, currency: 'EUR' } } })).statusCode, 201);
  assert.equal((await harness.orderstream.app.inject({ method: 'PUT', url: '/v1/inventory/TENANT-1', headers: asAdmin, payload: { onHand: 100 } })).statusCode, 200);
});
after(async () => {
  await harness.close();
  issuerServer.closeAllConnections();
  await new Promise((resolve) => issuerServer.close(resolve));
});

/** A bearer header for subject `alice` of `tenant`, validly signed by that tenant's key. */
async function aliceOf(tenant: Tenant): Promise<{ authorization: string }> {
  const key = keys.get(tenant);
  assert.ok(key);
  const token = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: `${tenant}-1`, typ: 'JWT' })
    .setIssuer(`${base}/${tenant}`).setAudience(audience).setSubject('alice').setIssuedAt().setExpirationTime('5m')
    .sign(key.privateKey);
  return { authorization: `Bearer ${token}` };
}

describe('external issuers on one host', () => {
  test('when alice of tenant A places an order, then alice of tenant B neither lists nor reads it, and the stored customer id names the whole issuer', async () => {
    const placed = await harness.orderstream.app.inject({
      method: 'POST', url: '/v1/orders', headers: { ...await aliceOf('tenant-a'), 'idempotency-key': crypto.randomUUID() },
      payload: { items: [{ sku: 'TENANT-1', quantity: 1 }], payment: { token: 'tok_visa' } },
    });
    assert.equal(placed.statusCode, 202, placed.body);
    const orderId = placed.json<{ id: string }>().id;

    const listedByA = await harness.orderstream.app.inject({ method: 'GET', url: '/v1/orders', headers: await aliceOf('tenant-a') });
    assert.deepEqual(listedByA.json<{ items: { id: string }[] }>().items.map((order) => order.id), [orderId]);
    const listedByB = await harness.orderstream.app.inject({ method: 'GET', url: '/v1/orders', headers: await aliceOf('tenant-b') });
    assert.equal(listedByB.statusCode, 200, listedByB.body);
    assert.deepEqual(listedByB.json<{ items: unknown[] }>().items, []);
    const readByB = await harness.orderstream.app.inject({ method: 'GET', url: `/v1/orders/${orderId}`, headers: await aliceOf('tenant-b') });
    assert.equal(readByB.statusCode, 404, readByB.body);

    // The documented SQL recipe (docs/decisions/0018-secret-rotation.md) yields the id the edge stored.
    const { rows } = await sql<{ stored: string; recomputed: string }>`
      select customer_id as stored,
             'ext:' || translate(left(encode(sha256(convert_to(${`${base}/tenant-a`}, 'UTF8')), 'base64'), 22), '+/', '-_') || ':alice' as recomputed
        from orders.orders where id = ${orderId}`.execute(harness.db);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.stored, rows[0]?.recomputed);
    assert.doesNotMatch(rows[0]?.stored ?? '', /^127\.0\.0\.1:/);
  });
});
