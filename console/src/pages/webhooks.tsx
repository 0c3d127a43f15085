import { useState } from 'react';
import { api, post } from '../api.ts';
import { formatTime } from '../format.ts';
import { Empty, Failure, Loading, TableScroll } from '../states.tsx';
import { useLoad } from '../use-load.ts';

interface Endpoint { id: string; url: string; events: string[]; createdAt: string }
interface Delivery {
  id: string; endpointId: string; eventType: string; orderId: string; status: string; attempts: number;
  lastError: string | null; nextAttemptAt: string | null; createdAt: string;
}

const statuses = ['', 'pending', 'sent', 'dead', 'cancelled'] as const;

/** Webhook endpoints (GET /v1/admin/webhooks) and their deliveries (GET /v1/admin/webhook-deliveries), with a retry for dead ones. */
export function WebhooksPage() {
  const endpoints = useLoad(() => api<{ items: Endpoint[] }>('/v1/admin/webhooks?limit=100'), 'endpoints');
  return (
    <>
      <section aria-labelledby="endpoints-title">
        <h2 id="endpoints-title">Endpoints</h2>
        {endpoints.loaded.state === 'loading' ? <Loading what="endpoints" /> : null}
        {endpoints.loaded.state === 'failed' ? <Failure error={endpoints.loaded.error} retry={endpoints.reload} /> : null}
        {endpoints.loaded.state === 'ready' && endpoints.loaded.value.items.length === 0 ? <Empty>No webhook endpoints. Register one with POST /v1/admin/webhooks.</Empty> : null}
        {endpoints.loaded.state === 'ready' && endpoints.loaded.value.items.length > 0 ? (
          <TableScroll label="Webhook endpoints">
            <table>
              <thead><tr><th scope="col">URL</th><th scope="col">Events</th><th scope="col">Registered</th></tr></thead>
              <tbody>
                {endpoints.loaded.value.items.map((endpoint) => (
                  <tr key={endpoint.id}><td><code>{endpoint.url}</code></td><td>{endpoint.events.join(', ')}</td><td>{formatTime(endpoint.createdAt)}</td></tr>
                ))}
              </tbody>
            </table>
          </TableScroll>
        ) : null}
      </section>
      <Deliveries />
    </>
  );
}

function Deliveries() {
  const [status, setStatus] = useState<(typeof statuses)[number]>('');
  const [notice, setNotice] = useState<unknown>(undefined);
  const { loaded, reload } = useLoad(() => api<{ items: Delivery[] }>(`/v1/admin/webhook-deliveries?limit=50${status === '' ? '' : `&status=${status}`}`), status);
  const retry = (delivery: Delivery) => {
    setNotice(undefined);
    post(`/v1/admin/webhook-deliveries/${encodeURIComponent(delivery.id)}/retry`).then(reload, setNotice);
  };
  return (
    <section aria-labelledby="deliveries-title">
      <h2 id="deliveries-title">Deliveries</h2>
      <div className="toolbar">
        <label htmlFor="delivery-status">Status</label>
        <select id="delivery-status" value={status} onChange={(event) => { setStatus(event.target.value as (typeof statuses)[number]); }}>
          {statuses.map((value) => <option key={value} value={value}>{value === '' ? 'any' : value}</option>)}
        </select>
      </div>
      {notice === undefined ? null : <Failure error={notice} />}
      {loaded.state === 'loading' ? <Loading what="deliveries" /> : null}
      {loaded.state === 'failed' ? <Failure error={loaded.error} retry={reload} /> : null}
      {loaded.state === 'ready' && loaded.value.items.length === 0 ? <Empty>No deliveries{status === '' ? '' : ` with status ${status}`}.</Empty> : null}
      {loaded.state === 'ready' && loaded.value.items.length > 0 ? (
        <TableScroll label="Webhook deliveries">
          <table>
            <thead><tr><th scope="col">Event</th><th scope="col">Order</th><th scope="col">Status</th><th scope="col" className="number">Attempts</th><th scope="col">Last error</th><th scope="col">Created</th><th scope="col"><span className="visually-hidden">Action</span></th></tr></thead>
            <tbody>
              {loaded.value.items.map((delivery) => (
                <tr key={delivery.id}>
                  <td>{delivery.eventType}</td><td><code>{delivery.orderId}</code></td><td>{delivery.status}</td>
                  <td className="number">{delivery.attempts}</td><td>{delivery.lastError ?? '—'}</td><td>{formatTime(delivery.createdAt)}</td>
                  <td>{delivery.status === 'dead' ? <button type="button" onClick={() => { retry(delivery); }} aria-label={`Retry delivery ${delivery.id}`}>Retry</button> : null}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableScroll>
      ) : null}
    </section>
  );
}
