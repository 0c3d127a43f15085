import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PaymentProviderUnavailableError } from '../../application/ports.ts';
import { SimulatedPaymentProvider } from './simulated-payment-provider.ts';

const amount = { amount: 1500, currency: 'EUR' };
let sequence = 0;
const request = (token: string) => {
  sequence += 1;
  return { orderId: `ord_${sequence}`, amount, token, idempotencyKey: `ord_${sequence}:authorize` };
};

describe('SimulatedPaymentProvider', () => {
  const provider = new SimulatedPaymentProvider({ delayMs: 0 });

  test('when the token is tok_visa, then it is authorised with a provider payment id', async () => {
    const answer = await provider.authorize(request('tok_visa'));
    assert.equal(answer.outcome, 'authorized');
    assert.match(answer.providerPaymentId, /^sim_pi_/);
  });

  const declines = [['tok_declined', 'card-declined'], ['tok_insufficient_funds', 'insufficient-funds'], ['tok_unknown', 'invalid-token'], ['', 'invalid-token']] as const;
  for (const [token, reason] of declines) {
    test(`when the token is "${token}", then it is declined as ${reason}`, async () => {
      assert.deepEqual(await provider.authorize(request(token)), { outcome: 'declined', reason });
    });
  }

  test('when the token is tok_slow, then the answer (a success) comes only after the configured delay', async () => {
    const slow = new SimulatedPaymentProvider({ delayMs: 200 });
    let answered = false;
    const pending = slow.authorize(request('tok_slow')).then((answer) => { answered = true; return answer; });
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(answered, false, 'no answer before the delay');
    assert.equal((await pending).outcome, 'authorized');
  });

  test('when the token is tok_flaky, then the first call per key fails transiently and the next succeeds', async () => {
    const flaky = request('tok_flaky');
    await assert.rejects(provider.authorize(flaky), PaymentProviderUnavailableError);
    assert.equal((await provider.authorize(flaky)).outcome, 'authorized');
    const other = request('tok_flaky');
    await assert.rejects(provider.authorize(other), PaymentProviderUnavailableError, 'each key fails once');
  });

  test('when the same idempotency key is used again, then the first answer comes back unchanged', async () => {
    const visa = request('tok_visa');
    const first = await provider.authorize(visa);
    assert.deepEqual(await provider.authorize({ ...visa, token: 'tok_declined' }), first);
  });

  test('when an authorisation is captured then refunded, then each succeeds once and a void after the capture is refused', async () => {
    const authorized = await provider.authorize(request('tok_visa'));
    assert.equal(authorized.outcome, 'authorized');
    const providerPaymentId = authorized.providerPaymentId;
    assert.deepEqual(await provider.capture({ orderId: 'o', providerPaymentId, amount, idempotencyKey: 'o:capture' }), { outcome: 'succeeded' });
    assert.deepEqual(await provider.void({ orderId: 'o', providerPaymentId, idempotencyKey: 'o:void' }), { outcome: 'failed', reason: 'payment-intent-succeeded' });
    assert.deepEqual(await provider.refund({ orderId: 'o', providerPaymentId, amount, idempotencyKey: 'o:refund' }), { outcome: 'succeeded' });
  });

  test('when a payment is looked up, then the state its calls left it in is reported, and an unknown one is unknown', async () => {
    const authorized = await provider.authorize(request('tok_visa'));
    const providerPaymentId = authorized.outcome === 'authorized' ? authorized.providerPaymentId : '';
    assert.equal(await provider.lookup({ orderId: 'o', providerPaymentId }), 'authorized');
    await provider.capture({ orderId: 'o', providerPaymentId, amount, idempotencyKey: 'o2:capture' });
    assert.equal(await provider.lookup({ orderId: 'o', providerPaymentId }), 'captured');
    await provider.refund({ orderId: 'o', providerPaymentId, amount, idempotencyKey: 'o2:refund' });
    assert.equal(await provider.lookup({ orderId: 'o', providerPaymentId }), 'refunded');
    assert.equal(await provider.lookup({ orderId: 'o', providerPaymentId: 'sim_pi_unknown' }), 'unknown');
  });

  test('when an order\'s authorisation is looked for by its key, then the one it made is found, and none for a key never authorised', async () => {
    const flaky = request('tok_flaky');
    await assert.rejects(provider.authorize(flaky), PaymentProviderUnavailableError);
    const again = await provider.authorize(flaky);
    assert.ok(again.outcome === 'authorized');
    assert.deepEqual(await provider.findAuthorization({ orderId: flaky.orderId, idempotencyKey: flaky.idempotencyKey }), {
      providerPaymentId: again.providerPaymentId, state: 'authorized',
    });
    assert.equal(await provider.findAuthorization({ orderId: 'o', idempotencyKey: 'never:authorize' }), undefined);
  });

  test('when a tok_flaky authorisation is captured, then the capture also fails once per key first', async () => {
    const flaky = request('tok_flaky');
    await assert.rejects(provider.authorize(flaky));
    const authorized = await provider.authorize(flaky);
    const providerPaymentId = authorized.outcome === 'authorized' ? authorized.providerPaymentId : '';
    const capture = { orderId: flaky.orderId, providerPaymentId, amount, idempotencyKey: `${flaky.orderId}:capture` };
    await assert.rejects(provider.capture(capture), PaymentProviderUnavailableError);
    assert.deepEqual(await provider.capture(capture), { outcome: 'succeeded' });
  });
});
