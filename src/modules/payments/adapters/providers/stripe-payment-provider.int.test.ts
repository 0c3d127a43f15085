import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { PaymentProviderUnavailableError } from '../../application/ports.ts';
import { startStripeStub, stubPaymentMethods, type StripeStub } from '../../testing/stripe-stub-server.ts';
import { StripePaymentProvider } from './stripe-payment-provider.ts';

const apiKey = 'sk_test_stub_key';
const amount = { amount: 4200, currency: 'EUR' };
let stub: StripeStub;
let provider: StripePaymentProvider;

before(async () => {
  stub = await startStripeStub();
  provider = new StripePaymentProvider({ apiKey, apiBaseUrl: stub.url, timeoutMs: 2000 });
});
after(async () => { await stub.close(); });
beforeEach(() => { stub.requests.length = 0; });

let sequence = 0;
function authorizeRequest(token: string) {
  sequence += 1;
  const orderId = `ord_stripe_${sequence}`;
  return { orderId, amount, token, idempotencyKey: `${orderId}:authorize` };
}

async function authorized(): Promise<{ orderId: string; providerPaymentId: string }> {
  const request = authorizeRequest(stubPaymentMethods.visa);
  const answer = await provider.authorize(request);
  assert.equal(answer.outcome, 'authorized');
  return { orderId: request.orderId, providerPaymentId: answer.providerPaymentId };
}

describe('StripePaymentProvider against a Stripe stub', () => {
  test('when authorising, then a confirmed manual-capture PaymentIntent is created with the token, the key and the API key', async () => {
    const request = authorizeRequest(stubPaymentMethods.visa);
    const answer = await provider.authorize(request);
    assert.equal(answer.outcome, 'authorized');
    assert.match(answer.providerPaymentId, /^pi_stub_/);
    assert.equal(stub.requests.length, 1);
    const sent = stub.requests[0]!;
    assert.equal(sent.method, 'POST');
    assert.equal(sent.path, '/v1/payment_intents');
    assert.equal(sent.idempotencyKey, request.idempotencyKey);
    assert.equal(sent.authorization, `Bearer ${apiKey}`);
    assert.deepEqual(
      [sent.form.amount, sent.form.currency, sent.form.payment_method, sent.form.capture_method, sent.form.confirm, sent.form['metadata[orderId]']],
      ['4200', 'eur', stubPaymentMethods.visa, 'manual', 'true', request.orderId],
    );
  });

  test('when the same authorisation is sent again, then the same key is sent and the same PaymentIntent comes back', async () => {
    const request = authorizeRequest(stubPaymentMethods.visa);
    const first = await provider.authorize(request);
    const second = await provider.authorize(request);
    assert.deepEqual(second, first);
    assert.deepEqual(stub.requests.map((sent) => sent.idempotencyKey), [request.idempotencyKey, request.idempotencyKey]);
  });

  test('when capturing, then the PaymentIntent is captured for the amount with the capture key', async () => {
    const { orderId, providerPaymentId } = await authorized();
    const answer = await provider.capture({ orderId, providerPaymentId, amount, idempotencyKey: `${orderId}:capture` });
    assert.deepEqual(answer, { outcome: 'succeeded' });
    const sent = stub.requests.at(-1)!;
    assert.deepEqual([sent.method, sent.path, sent.form.amount_to_capture, sent.idempotencyKey], ['POST', `/v1/payment_intents/${providerPaymentId}/capture`, '4200', `${orderId}:capture`]);
  });

  test('when voiding, then the PaymentIntent is cancelled with the void key', async () => {
    const { orderId, providerPaymentId } = await authorized();
    assert.deepEqual(await provider.void({ orderId, providerPaymentId, idempotencyKey: `${orderId}:void` }), { outcome: 'succeeded' });
    const sent = stub.requests.at(-1)!;
    assert.deepEqual([sent.method, sent.path, sent.idempotencyKey], ['POST', `/v1/payment_intents/${providerPaymentId}/cancel`, `${orderId}:void`]);
  });

  test('when refunding, then a refund of the PaymentIntent is created for the amount with the refund key', async () => {
    const { orderId, providerPaymentId } = await authorized();
    await provider.capture({ orderId, providerPaymentId, amount, idempotencyKey: `${orderId}:capture` });
    assert.deepEqual(await provider.refund({ orderId, providerPaymentId, amount, idempotencyKey: `${orderId}:refund` }), { outcome: 'succeeded' });
    const sent = stub.requests.at(-1)!;
    assert.deepEqual([sent.path, sent.form.payment_intent, sent.form.amount, sent.idempotencyKey], ['/v1/refunds', providerPaymentId, '4200', `${orderId}:refund`]);
  });

  test('when looking a PaymentIntent up, then its Stripe status is reported as authorized, captured, refunded or voided', async () => {
    const captured = await authorized();
    assert.equal(await provider.lookup(captured), 'authorized');
    await provider.capture({ ...captured, amount, idempotencyKey: `${captured.orderId}:capture` });
    assert.equal(await provider.lookup(captured), 'captured');
    assert.deepEqual([stub.requests.at(-1)?.method, stub.requests.at(-1)?.path], ['GET', `/v1/payment_intents/${captured.providerPaymentId}`]);
    await provider.refund({ ...captured, amount, idempotencyKey: `${captured.orderId}:refund` });
    assert.equal(await provider.lookup(captured), 'refunded');
    const voided = await authorized();
    await provider.void({ ...voided, idempotencyKey: `${voided.orderId}:void` });
    assert.equal(await provider.lookup(voided), 'voided');
    assert.equal(await provider.lookup({ orderId: 'ord_missing', providerPaymentId: 'pi_stub_missing' }), 'unknown');
  });

  test('when an order\'s authorisation is looked for, then the PaymentIntents are searched by the order id in their metadata', async () => {
    const held = await authorized();
    assert.deepEqual(await provider.findAuthorization({ orderId: held.orderId, idempotencyKey: `${held.orderId}:authorize` }), { providerPaymentId: held.providerPaymentId, state: 'authorized' });
    const sent = stub.requests.at(-1)!;
    assert.deepEqual([sent.method, sent.path, sent.form.query], ['GET', '/v1/payment_intents/search', `metadata['orderId']:'${held.orderId}'`]);
    await provider.void({ ...held, idempotencyKey: `${held.orderId}:void` });
    assert.deepEqual(await provider.findAuthorization({ orderId: held.orderId, idempotencyKey: `${held.orderId}:authorize` }), { providerPaymentId: held.providerPaymentId, state: 'voided' });
    assert.equal(await provider.findAuthorization({ orderId: 'ord_never_authorised', idempotencyKey: 'ord_never_authorised:authorize' }), undefined);
  });

  test('when an order id holds a quote, then the search query escapes it and finds only that order', async () => {
    const request = { ...authorizeRequest(stubPaymentMethods.visa), orderId: "ord_o'brien\\x" };
    const answer = await provider.authorize(request);
    assert.equal(answer.outcome, 'authorized');
    const found = await provider.findAuthorization({ orderId: request.orderId, idempotencyKey: request.idempotencyKey });
    assert.equal(found?.state, 'authorized');
    assert.equal(stub.requests.at(-1)?.form.query, "metadata['orderId']:'ord_o\\'brien\\\\x'");
  });

  const declines = [
    [stubPaymentMethods.declined, 'card-declined'],
    [stubPaymentMethods.insufficientFunds, 'insufficient-funds'],
    [stubPaymentMethods.missing, 'invalid-token'],
  ] as const;
  for (const [paymentMethod, reason] of declines) {
    test(`when Stripe refuses ${paymentMethod}, then the authorisation is declined as ${reason}`, async () => {
      assert.deepEqual(await provider.authorize(authorizeRequest(paymentMethod)), { outcome: 'declined', reason });
    });
  }

  test('when Stripe answers 500, then a retryable error is thrown after one request (the SDK does not retry on its own)', async () => {
    await assert.rejects(provider.authorize(authorizeRequest(stubPaymentMethods.serverError)), PaymentProviderUnavailableError);
    assert.equal(stub.requests.length, 1);
  });

  test('when Stripe does not answer in time, then a retryable error is thrown', async () => {
    const impatient = new StripePaymentProvider({ apiKey, apiBaseUrl: stub.url, timeoutMs: 200 });
    await assert.rejects(impatient.authorize(authorizeRequest(stubPaymentMethods.hang)), PaymentProviderUnavailableError);
  });

  test('when capturing a cancelled PaymentIntent, then the capture fails for good with Stripe\'s code', async () => {
    const { orderId, providerPaymentId } = await authorized();
    await provider.void({ orderId, providerPaymentId, idempotencyKey: `${orderId}:void` });
    assert.deepEqual(
      await provider.capture({ orderId, providerPaymentId, amount, idempotencyKey: `${orderId}:capture` }),
      { outcome: 'failed', reason: 'payment_intent_unexpected_state' },
    );
  });
});
