import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { OverloadedError } from '../../../../platform/concurrency/overloaded.ts';
import type { Invoice } from '../../domain/invoice.ts';
import { PdfkitInvoiceRenderer } from './pdfkit-invoice-renderer.ts';

function invoiceFor(orderId: string): Invoice {
  return {
    orderId, seller: 'OrderStream Test Shop', customer: { id: 'cust-1', email: 'ada@example.com' },
    lines: [{ sku: 'SKU-1', name: 'Tea', quantity: 2, unitPrice: { amount: 450, currency: 'EUR' }, lineTotal: { amount: 900, currency: 'EUR' } }],
    total: { amount: 900, currency: 'EUR' }, issuedAt: new Date('2025-03-01T10:00:00Z'),
  };
}

async function readAll(stream: AsyncIterator<Uint8Array>, first?: Uint8Array): Promise<Buffer> {
  const chunks: Uint8Array[] = first === undefined ? [] : [first];
  for (let next = await stream.next(); next.done !== true; next = await stream.next()) chunks.push(next.value);
  return Buffer.concat(chunks);
}

test('when two invoices are rendered with one turn, then the second is drawn only once the first stream has ended', async () => {
  const renderer = new PdfkitInvoiceRenderer({ concurrency: 1 });
  const first = renderer.render(invoiceFor('ord-1'))[Symbol.asyncIterator]();
  const second = renderer.render(invoiceFor('ord-2'))[Symbol.asyncIterator]();

  const firstChunk = await first.next();
  assert.equal(firstChunk.done, false);
  let secondStarted = false;
  const secondChunk = second.next().then((chunk) => { secondStarted = true; return chunk; });
  await sleep(10);
  assert.equal(secondStarted, false, 'the second invoice waits for the turn');
  assert.deepEqual(renderer.limiter.stats(), { resource: 'PDF rendering', concurrency: 1, running: 1, queued: 1, refusedTotal: 0 });

  const firstPdf = await readAll(first, firstChunk.value);
  const secondStart = await secondChunk;
  assert.equal(secondStart.done, false);
  const secondPdf = await readAll(second, secondStart.value);
  assert.equal(firstPdf.subarray(0, 5).toString(), '%PDF-');
  assert.equal(secondPdf.subarray(0, 5).toString(), '%PDF-');
  assert.deepEqual(renderer.limiter.stats(), { resource: 'PDF rendering', concurrency: 1, running: 0, queued: 0, refusedTotal: 0 });
});

test('when a reader abandons an invoice stream, then its turn is given back', async () => {
  const renderer = new PdfkitInvoiceRenderer({ concurrency: 1 });
  for await (const chunk of renderer.render(invoiceFor('ord-1'))) {
    assert.ok(chunk.length > 0);
    break;
  }

  assert.equal(renderer.limiter.stats().running, 0);
  const chunks: Uint8Array[] = [];
  for await (const chunk of renderer.render(invoiceFor('ord-2'))) chunks.push(chunk);
  assert.ok(Buffer.concat(chunks).includes('%%EOF'));
});

test('when an invoice waits longer than its bound for a turn, then it is refused with OverloadedError', async () => {
  const renderer = new PdfkitInvoiceRenderer({ concurrency: 1, maxWaitMs: 20 });
  const held = renderer.render(invoiceFor('ord-1'))[Symbol.asyncIterator]();
  await held.next();

  await assert.rejects(readAll(renderer.render(invoiceFor('ord-2'))[Symbol.asyncIterator]()), OverloadedError);
  await held.return?.();
  assert.deepEqual(renderer.limiter.stats(), { resource: 'PDF rendering', concurrency: 1, running: 0, queued: 0, refusedTotal: 1 });
});
