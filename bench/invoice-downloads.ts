import type { BenchReport, InvoiceDownloads } from './bench-result.ts';
import { inBatches } from './bench-environment.ts';
import type { ScenarioContext } from './scenarios.ts';
import { percentiles } from './statistics.ts';

/** Invoices downloaded: enough for a p99, few enough that most of the run's invoices stay undrawn, as most real ones do. */
const invoicesDownloaded = 100;
/** Downloads at once: a few customers at the same moment, within what the PDF renderer's limiter lets wait (64). */
const downloadConcurrency = 4;
/** A download that hangs fails, rather than the run. */
const downloadTimeoutMs = 30_000;
/** How every PDF starts. */
const pdfMagic = Buffer.from('%PDF-');

/** An order whose invoice its owner downloads. */
export interface OwnedOrder {
  orderId: string;
  token: string;
}

/**
 * Invoices are drawn on their first download (decision 0014), so what they cost shows there: up to
 * 100 confirmed orders whose invoices nobody has downloaded yet, each downloaded by its owner, 4 at
 * a time (drawn then), then the same ones again (the stored documents); and the run's invoices,
 * recorded and drawn, once done. `problem` tells of any download that failed.
 */
export async function measureInvoiceDownloads(context: ScenarioContext): Promise<{ invoices: NonNullable<BenchReport['invoices']>; problem: string | undefined }> {
  const { target } = context;
  const orders = await undownloadedOrders(context);
  context.log(`invoices: ${orders.length} confirmed orders' invoices downloaded by their owners, ${downloadConcurrency} at a time, first (drawn then) and again (stored)`);
  const first = await downloadInvoices(target.baseUrl, orders);
  const stored = await downloadInvoices(target.baseUrl, orders);
  const failures = [...first.failures, ...stored.failures];
  const failed = first.downloads.failed + stored.downloads.failed;
  return {
    invoices: { ...(await target.observer.invoiceCounts()), firstDownloads: first.downloads, storedDownloads: stored.downloads },
    problem: failed === 0 ? undefined : `invoices: ${failed} of ${first.downloads.count + stored.downloads.count} downloads failed; e.g. ${failures[0] ?? '?'}`,
  };
}

/**
 * The newest confirmed orders of the benchmark's customers whose invoice is recorded and not drawn,
 * with their owner's token. Twice as many confirmed orders are looked at as are wanted: the newest
 * may not have their invoice recorded yet (in the services shape a message on its way through
 * Kafka is in no backlog).
 */
async function undownloadedOrders(context: ScenarioContext): Promise<OwnedOrder[]> {
  const { target } = context;
  const tokenOf = new Map(target.customers.map((customer) => [customer.id, customer.token]));
  const confirmed = await target.observer.confirmedOrdersOf([...tokenOf.keys()], 2 * invoicesDownloaded);
  const undrawn = await target.observer.undrawnInvoicesOf(confirmed.map((order) => order.orderId));
  const missing = confirmed.filter((order) => !undrawn.has(order.orderId)).length;
  if (missing > 0) context.log(`invoices: ${missing} of the ${confirmed.length} newest confirmed orders have no undrawn invoice recorded; they are not downloaded`);
  return confirmed.flatMap(({ customerId, orderId }) => {
    const token = tokenOf.get(customerId);
    return token === undefined || !undrawn.has(orderId) ? [] : [{ orderId, token }];
  }).slice(0, invoicesDownloaded);
}

/** Each order's invoice downloaded once by its owner, `downloadConcurrency` at a time: how many, how many failed (and why), how long. */
export async function downloadInvoices(baseUrl: string, orders: readonly OwnedOrder[]): Promise<{ downloads: InvoiceDownloads; failures: string[] }> {
  const results: Download[] = [];
  await inBatches(orders.map((order) => async () => { results.push(await download(baseUrl, order)); }), downloadConcurrency);
  const failures = results.flatMap((result) => (result.failure === undefined ? [] : [result.failure]));
  // A refusal answers faster than a drawing: only the downloads that succeeded give the latency.
  const { p50, p99 } = percentiles(results.filter((result) => result.failure === undefined).map((result) => result.ms));
  return { downloads: { count: results.length, failed: failures.length, p50Ms: p50, p99Ms: p99 }, failures };
}

/** One download: from sending the request to the body's last byte, and why it failed, if it did. */
interface Download {
  ms: number;
  failure?: string;
}

async function download(baseUrl: string, order: OwnedOrder): Promise<Download> {
  const what = `GET /v1/orders/${order.orderId}/invoice`;
  const startedAt = performance.now();
  try {
    const response = await fetch(`${baseUrl}/v1/orders/${order.orderId}/invoice`, {
      headers: { authorization: `Bearer ${order.token}` }, signal: AbortSignal.timeout(downloadTimeoutMs),
    });
    const body = Buffer.from(await response.arrayBuffer());
    const ms = performance.now() - startedAt;
    if (response.status !== 200) return { ms, failure: `${what} answered ${response.status}: ${body.toString('utf8', 0, 300)}` };
    if (!body.subarray(0, pdfMagic.length).equals(pdfMagic)) return { ms, failure: `${what} answered 200 with ${body.length} bytes that are no PDF` };
    return { ms };
  } catch (error) {
    return { ms: performance.now() - startedAt, failure: `${what} got no answer: ${error instanceof Error ? error.message : String(error)}` };
  }
}
