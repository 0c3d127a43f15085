import { api } from '../api.ts';
import { formatMoney, formatTime } from '../format.ts';
import { ListStates, TableScroll } from '../states.tsx';
import { usePoll } from '../use-poll.ts';
import type { Delivery, Page, PaymentOperation } from './order-types.tsx';

/** Deliveries and payment operations change after the order does (an email is sent after confirming): read them again now and then. */
const pollMs = 4000;

/** The order's payment operations, oldest first (GET /v1/admin/payment-operations?orderId=). */
export function PaymentOperationsPanel({ orderId }: { orderId: string }) {
  const path = `/v1/admin/payment-operations?orderId=${encodeURIComponent(orderId)}&limit=100`;
  const { loaded, refresh } = usePoll(() => api<Page<PaymentOperation>>(path), path, pollMs);
  return (
    <section className="panel" aria-labelledby="payment-operations">
      <h2 id="payment-operations">Payment operations</h2>
      <ListStates loaded={loaded} what="payment operations" retry={refresh} empty="No payment operations yet.">{(items) => (
        <TableScroll label="Payment operations table">
          <table>
            <thead><tr><th scope="col">Kind</th><th scope="col">Status</th><th scope="col">Outcome</th><th scope="col" className="number">Amount</th><th scope="col" className="number">Attempts</th><th scope="col">Started</th><th scope="col">Finished</th></tr></thead>
            <tbody>
              {items.map((operation) => (
                <tr key={operation.id}>
                  <td>{operation.kind}</td>
                  <td>{operation.status}</td>
                  <td className="wrap">{operation.outcome ?? '—'}{operation.lastError === null ? '' : ` (${operation.lastError})`}</td>
                  <td className="number">{operation.amount === null ? '—' : formatMoney(operation.amount)}</td>
                  <td className="number">{operation.attempts}</td>
                  <td className="when">{formatTime(operation.createdAt)}</td>
                  <td className="when">{formatTime(operation.finishedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      )}</ListStates>
    </section>
  );
}

/** The order's email or webhook deliveries, oldest first (GET /v1/admin/{email,webhook}-deliveries?orderId=). */
export function DeliveriesPanel({ orderId, kind }: { orderId: string; kind: 'email' | 'webhook' }) {
  const path = `/v1/admin/${kind}-deliveries?orderId=${encodeURIComponent(orderId)}&limit=100`;
  const { loaded, refresh } = usePoll(() => api<Page<Delivery>>(path), path, pollMs);
  const title = kind === 'email' ? 'Email deliveries' : 'Webhook deliveries';
  const headingId = `${kind}-deliveries`;
  return (
    <section className="panel" aria-labelledby={headingId}>
      <h2 id={headingId}>{title}</h2>
      <ListStates
        loaded={loaded} what={title.toLowerCase()} retry={refresh}
        empty={kind === 'email' ? 'No emails for this order yet.' : 'No webhook deliveries for this order (none yet, or no endpoint wants its events).'}
      >{(items) => (
        <TableScroll label={`${title} table`}>
          <table>
            <thead><tr><th scope="col">Event</th><th scope="col">{kind === 'email' ? 'To' : 'Endpoint'}</th><th scope="col">Status</th><th scope="col" className="number">Attempts</th><th scope="col">Created</th><th scope="col">Sent</th></tr></thead>
            <tbody>
              {items.map((delivery) => (
                <tr key={delivery.id}>
                  <td><code>{delivery.eventType}</code></td>
                  <td className="wrap">{kind === 'email' ? delivery.to : <code>{delivery.endpointId}</code>}</td>
                  <td>{delivery.status}{delivery.lastError === null ? '' : ` (${delivery.lastError})`}</td>
                  <td className="number">{delivery.attempts}</td>
                  <td className="when">{formatTime(delivery.createdAt)}</td>
                  <td>{delivery.sentAt === null ? (delivery.nextAttemptAt === null ? '—' : `next try ${formatTime(delivery.nextAttemptAt)}`) : formatTime(delivery.sentAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      )}</ListStates>
    </section>
  );
}
