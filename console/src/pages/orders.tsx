import { useState, type SyntheticEvent } from 'react';
import { api } from '../api.ts';
import { formatClock, formatMoney, formatTime } from '../format.ts';
import { followLink, orderHref } from '../router.ts';
import { Pager } from '../pager.tsx';
import { Empty, Failure, Loading, TableScroll } from '../states.tsx';
import { usePoll } from '../use-poll.ts';
import { orderStatuses, StatusBadge, type AdminOrder, type Page } from './order-types.tsx';

const pageSize = 25;
/** How often the list is read again while the tab is visible. */
const pollMs = 3000;

interface Filters { status: string; email: string; from: string; to: string; sku: string }
const noFilters: Filters = { status: '', email: '', from: '', to: '', sku: '' };

/** A date from a date field (the viewer's calendar day), as the instant its day starts in their zone; `days` later when asked. */
function startOfDay(value: string, days = 0): string {
  const [year, month, day] = value.split('-').map(Number);
  return new Date(year ?? 1970, (month ?? 1) - 1, (day ?? 1) + days).toISOString();
}

function queryOf(filters: Filters, cursor: string | undefined): string {
  const query = new URLSearchParams({ limit: String(pageSize) });
  if (filters.status !== '') query.set('status', filters.status);
  if (filters.email.trim() !== '') query.set('email', filters.email.trim());
  if (filters.sku.trim() !== '') query.set('sku', filters.sku.trim());
  if (filters.from !== '') query.set('from', startOfDay(filters.from));
  // The "to" day is included: the API's bound is exclusive, so ask for the start of the next day.
  if (filters.to !== '') query.set('to', startOfDay(filters.to, 1));
  if (cursor !== undefined) query.set('cursor', cursor);
  return query.toString();
}

/** Every order, newest first, filtered and paged (GET /v1/admin/orders), read again every few seconds. */
export function OrdersPage() {
  const [filters, setFilters] = useState<Filters>(noFilters);
  const [cursors, setCursors] = useState<readonly (string | undefined)[]>([undefined]);
  const query = queryOf(filters, cursors.at(-1));
  const { loaded, refresh } = usePoll(() => api<Page<AdminOrder>>(`/v1/admin/orders?${query}`), query, pollMs);
  const apply = (next: Filters) => { setFilters(next); setCursors([undefined]); };
  return (
    <>
      <OrderFilters key={JSON.stringify(filters)} initial={filters} onApply={apply} />
      {loaded.state === 'loading' ? <Loading what="orders" /> : null}
      {loaded.state === 'failed' ? <Failure error={loaded.error} retry={refresh} /> : null}
      {loaded.state === 'ready' && loaded.value.items.length === 0 && cursors.length === 1
        ? <Empty>{Object.values(filters).every((value) => value === '') ? 'No orders yet. Orders placed through the API appear here within seconds.' : 'No orders match these filters.'}</Empty>
        : null}
      {loaded.state === 'ready' && (loaded.value.items.length > 0 || cursors.length > 1) ? (
        <>
          <TableScroll label="Orders">
            <table>
              <caption>Page {cursors.length}, newest first{loaded.readAt === undefined ? '' : ` · updated ${formatClock(loaded.readAt)}`}</caption>
              <thead><tr><th scope="col">Order</th><th scope="col">Status</th><th scope="col">Customer</th><th scope="col">Placed</th><th scope="col" className="number">Items</th><th scope="col" className="number">Total</th></tr></thead>
              <tbody>
                {loaded.value.items.map((order) => (
                  <tr key={order.id}>
                    <td><a href={orderHref(order.id)} onClick={followLink(orderHref(order.id))}><code className="order-id">{order.id}</code></a></td>
                    <td><StatusBadge status={order.status} /></td>
                    <td className="wrap">{order.customerEmail}</td>
                    <td className="when">{formatTime(order.createdAt)}</td>
                    <td className="number">{order.lines.reduce((sum, line) => sum + line.quantity, 0)}</td>
                    <td className="number">{formatMoney(order.total)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableScroll>
          <Pager cursors={cursors} nextCursor={loaded.value.nextCursor} setCursors={setCursors} />
        </>
      ) : null}
    </>
  );
}

/** The filter form; applied on submit, so typing does not ask the API at every key. */
function OrderFilters({ initial, onApply }: { initial: Filters; onApply: (filters: Filters) => void }) {
  const [draft, setDraft] = useState(initial);
  const set = (field: keyof Filters) => (event: { target: { value: string } }) => { setDraft({ ...draft, [field]: event.target.value }); };
  const submit = (event: SyntheticEvent) => { event.preventDefault(); onApply(draft); };
  return (
    <form className="filters" onSubmit={submit} aria-label="Filter orders">
      <div className="field">
        <label htmlFor="order-status">Status</label>
        <select id="order-status" value={draft.status} onChange={set('status')}>
          <option value="">Any</option>
          {orderStatuses.map((status) => <option key={status} value={status}>{status}</option>)}
        </select>
      </div>
      <div className="field"><label htmlFor="order-email">Customer email</label><input id="order-email" type="email" value={draft.email} onChange={set('email')} autoComplete="off" /></div>
      <div className="field"><label htmlFor="order-from">Placed from</label><input id="order-from" type="date" value={draft.from} onChange={set('from')} /></div>
      <div className="field"><label htmlFor="order-to">Placed to (inclusive)</label><input id="order-to" type="date" value={draft.to} onChange={set('to')} /></div>
      <div className="field"><label htmlFor="order-sku">SKU</label><input id="order-sku" value={draft.sku} onChange={set('sku')} autoComplete="off" /></div>
      <div className="field-actions">
        <button type="submit">Apply filters</button>
        <button type="button" className="secondary" onClick={() => { setDraft(noFilters); onApply(noFilters); }}>Clear</button>
      </div>
    </form>
  );
}
