import { useRef, useState } from 'react';
import { api, post } from '../api.ts';
import { formatClock, formatDuration, formatMoney, formatTime } from '../format.ts';
import { followLink, hrefOf } from '../router.ts';
import { Failure, Loading, TableScroll } from '../states.tsx';
import { usePoll } from '../use-poll.ts';
import { DeliveriesPanel, PaymentOperationsPanel } from './order-panels.tsx';
import { StatusBadge, type Order } from './order-types.tsx';

/** How often an order is read again while the tab is visible: its saga moves in seconds. */
const pollMs = 2000;

/** One order (GET /v1/orders/{id} as admin): its saga timeline, payments, emails, webhooks, and a cancel. */
export function OrderDetailPage({ id }: { id: string }) {
  const path = `/v1/orders/${encodeURIComponent(id)}`;
  const { loaded, refresh } = usePoll(() => api<Order>(path), path, pollMs);
  return (
    <>
      <p><a href={hrefOf('orders')} onClick={followLink(hrefOf('orders'))}>← All orders</a></p>
      {loaded.state === 'loading' ? <Loading what="the order" /> : null}
      {loaded.state === 'failed' ? <Failure error={loaded.error} retry={refresh} /> : null}
      {loaded.state === 'ready' ? <OrderView order={loaded.value} readAt={loaded.readAt} onCancelled={refresh} /> : null}
    </>
  );
}

function OrderView({ order, readAt, onCancelled }: { order: Order; readAt: Date | undefined; onCancelled: () => void }) {
  const finished = order.status === 'CANCELLED' || order.status === 'CANCELLING';
  return (
    <>
      <section className="panel" aria-labelledby="order-summary">
        <h2 id="order-summary">Summary</h2>
        <dl className="facts">
          <div><dt>Status</dt><dd><StatusBadge status={order.status} /></dd></div>
          <div><dt>Total</dt><dd>{formatMoney(order.total)}</dd></div>
          <div><dt>Refunded</dt><dd>{order.refunded === null ? '—' : formatMoney(order.refunded)}</dd></div>
          <div><dt>Customer</dt><dd><code>{order.customerId}</code></dd></div>
          <div><dt>Placed</dt><dd>{formatTime(order.createdAt)}</dd></div>
          <div><dt>Updated</dt><dd>{formatTime(order.updatedAt)}</dd></div>
        </dl>
        {order.cancellationReason === null ? null : <p>Cancellation reason: {order.cancellationReason}</p>}
        {readAt === undefined ? null : <p className="muted">Read at {formatClock(readAt)}; updates every few seconds.</p>}
        <CancelOrder order={order} disabled={finished} onCancelled={onCancelled} />
      </section>
      <section className="panel" aria-labelledby="order-lines">
        <h2 id="order-lines">Lines</h2>
        <TableScroll label="Order lines table">
          <table>
            <thead><tr><th scope="col">SKU</th><th scope="col">Name</th><th scope="col" className="number">Quantity</th><th scope="col" className="number">Unit price</th><th scope="col" className="number">Line total</th></tr></thead>
            <tbody>
              {order.lines.map((line) => (
                <tr key={line.sku}><td><code>{line.sku}</code></td><td>{line.name}</td><td className="number">{line.quantity}</td><td className="number">{formatMoney(line.unitPrice)}</td><td className="number">{formatMoney(line.lineTotal)}</td></tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      </section>
      <section className="panel" aria-labelledby="order-timeline">
        <h2 id="order-timeline">Saga timeline</h2>
        <Timeline entries={order.timeline} />
      </section>
      <PaymentOperationsPanel orderId={order.id} />
      <DeliveriesPanel orderId={order.id} kind="email" />
      <DeliveriesPanel orderId={order.id} kind="webhook" />
    </>
  );
}

/** The saga's steps as a vertical list, each with the time it took since the step before. */
function Timeline({ entries }: { entries: Order['timeline'] }) {
  return (
    <ol className="timeline" aria-label="Saga steps">
      {entries.map((entry, index) => {
        const previous = entries[index - 1];
        const took = previous === undefined ? undefined : new Date(entry.at).getTime() - new Date(previous.at).getTime();
        return (
          <li key={`${entry.step}-${entry.at}-${index}`} className="timeline-step">
            <span className="timeline-name">{entry.step}</span>
            <span className="timeline-when">{formatTime(entry.at)}{took === undefined ? '' : ` · +${formatDuration(took)}`}</span>
            {entry.detail === undefined ? null : <span className="timeline-detail">{entry.detail}</span>}
          </li>
        );
      })}
    </ol>
  );
}

/** The cancel button and its confirmation (a modal dialog: focus is kept inside, Escape closes it). */
function CancelOrder({ order, disabled, onCancelled }: { order: Order; disabled: boolean; onCancelled: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const [notice, setNotice] = useState('');
  const confirm = () => {
    setBusy(true);
    setError(undefined);
    post<Order>(`/v1/orders/${encodeURIComponent(order.id)}/cancel`).then(
      () => { setBusy(false); dialog.current?.close(); setNotice('Cancellation requested: the order is being compensated.'); onCancelled(); },
      (failure: unknown) => { setBusy(false); setError(failure); },
    );
  };
  const consequence = order.status === 'CONFIRMED'
    ? 'The payment is refunded and the stock put back.'
    : 'Reserved stock is released and any authorised payment voided.';
  return (
    <>
      <button type="button" className="danger" disabled={disabled} onClick={() => { setError(undefined); dialog.current?.showModal(); }}>Cancel order</button>
      <p role="status" aria-live="polite" className="notice">{notice}</p>
      <dialog ref={dialog} className="confirm" aria-labelledby="cancel-title" aria-describedby="cancel-text">
        <h2 id="cancel-title">Cancel order {order.id}?</h2>
        <p id="cancel-text">{consequence} This cannot be undone.</p>
        {error === undefined ? null : <Failure error={error} />}
        <div className="dialog-actions">
          <button type="button" className="secondary" onClick={() => { dialog.current?.close(); }} autoFocus>Keep the order</button>
          <button type="button" className="danger" onClick={confirm} disabled={busy}>{busy ? 'Cancelling…' : 'Yes, cancel the order'}</button>
        </div>
      </dialog>
    </>
  );
}
