import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatMoney, renderEmail } from './email-templates.ts';

const customerEmail = 'ada@example.com';

describe('renderEmail', () => {
  test('when an order is confirmed, then the email lists each line with its amount and the total, in text and HTML', () => {
    const email = renderEmail({
      kind: 'order-confirmed', orderId: 'ord_1', customerEmail,
      lines: [
        { sku: 'MUG-01', name: 'Blue mug', quantity: 2, lineTotal: { amount: 2598, currency: 'EUR' } },
        { sku: 'TEA-7', name: 'Green tea', quantity: 1, lineTotal: { amount: 450, currency: 'EUR' } },
      ],
      total: { amount: 3048, currency: 'EUR' },
    });
    assert.equal(email.subject, 'Your order ord_1 is confirmed');
    assert.match(email.text, /^ {2}2 × Blue mug \(MUG-01\): €25\.98$/m);
    assert.match(email.text, /^ {2}1 × Green tea \(TEA-7\): €4\.50$/m);
    assert.match(email.text, /^Total: €30\.48$/m);
    assert.match(email.html, /<td>2 × Blue mug \(MUG-01\)<\/td><td style="text-align: right">€25\.98<\/td>/);
    assert.match(email.html, /<th style="text-align: right">€30\.48<\/th>/);
  });

  test('when an order is cancelled without a refund, then the email gives the reason and mentions no refund', () => {
    const email = renderEmail({ kind: 'order-cancelled', orderId: 'ord_2', customerEmail, reason: 'payment declined', total: { amount: 100, currency: 'EUR' } });
    assert.equal(email.subject, 'Your order ord_2 was cancelled');
    assert.match(email.text, /^Reason: payment declined$/m);
    assert.doesNotMatch(email.text, /refund/i);
    assert.match(email.html, /<p>Reason: payment declined<\/p>/);
  });

  test('when an order is cancelled with a refund, then the email gives the refunded amount', () => {
    const email = renderEmail({
      kind: 'order-refunded', orderId: 'ord_3', customerEmail, reason: 'cancelled by the customer',
      refunded: { amount: 1299, currency: 'USD' }, total: { amount: 1299, currency: 'USD' },
    });
    assert.equal(email.subject, 'Your order ord_3 was cancelled and refunded');
    assert.match(email.text, /We refunded \$12\.99 to your original payment method\./);
    assert.match(email.html, /We refunded \$12\.99/);
  });

  test('when a product name holds markup, then the HTML shows it as text and the plain text keeps it', () => {
    const email = renderEmail({
      kind: 'order-confirmed', orderId: 'ord_4', customerEmail,
      lines: [{ sku: 'X-1', name: '<b>Bold</b> & "quoted"', quantity: 1, lineTotal: { amount: 100, currency: 'EUR' } }],
      total: { amount: 100, currency: 'EUR' },
    });
    assert.doesNotMatch(email.html, /<b>Bold<\/b>/);
    assert.match(email.html, /&#60;b&#62;Bold&#60;\/b&#62; &#38; &#34;quoted&#34;/);
    assert.match(email.text, /<b>Bold<\/b> & "quoted"/);
  });
});

describe('formatMoney', () => {
  test('when the currency has no minor unit or three of them, then the amount is scaled by its own digits', () => {
    assert.equal(formatMoney({ amount: 1200, currency: 'JPY' }), '¥1,200');
    assert.match(formatMoney({ amount: 1234, currency: 'KWD' }), /^KWD\s1\.234$/);
    assert.equal(formatMoney({ amount: 123456789, currency: 'EUR' }), '€1,234,567.89');
    assert.equal(formatMoney({ amount: 5, currency: 'GBP' }), '£0.05');
  });
});
