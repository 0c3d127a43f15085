import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { downloadInvoices } from './invoice-downloads.ts';

test('when some invoices are not found or are no PDF, then they count as failed, each download is made with its owner\'s token, and the rest give the latency', async (context) => {
  const seen: { url: string | undefined; authorization: string | undefined }[] = [];
  const server = createServer((request, response) => {
    seen.push({ url: request.url, authorization: request.headers.authorization });
    if (request.url === '/v1/orders/missing/invoice') response.writeHead(404, { 'content-type': 'application/json' }).end('{"title":"Not Found"}');
    else if (request.url === '/v1/orders/html/invoice') response.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>');
    else response.writeHead(200, { 'content-type': 'application/pdf' }).end('%PDF-1.3\n%fake\n');
  });
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve); });
  context.after(() => new Promise((resolve) => server.close(resolve)));
  const orders = ['a', 'b', 'missing', 'html', 'c'].map((orderId) => ({ orderId, token: `token-${orderId}` }));

  const { downloads, failures } = await downloadInvoices(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, orders);

  assert.equal(downloads.count, 5);
  assert.equal(downloads.failed, 2);
  assert.ok(downloads.p50Ms > 0 && downloads.p99Ms >= downloads.p50Ms);
  assert.deepEqual(failures.toSorted(), [
    'GET /v1/orders/html/invoice answered 200 with 13 bytes that are no PDF',
    'GET /v1/orders/missing/invoice answered 404: {"title":"Not Found"}',
  ]);
  assert.deepEqual(seen.map((request) => `${request.url ?? ''} ${request.authorization ?? ''}`).toSorted(),
    orders.map(({ orderId, token }) => `/v1/orders/${orderId}/invoice Bearer ${token}`).toSorted());
});
