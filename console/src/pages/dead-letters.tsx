import { useState } from 'react';
import { api, post } from '../api.ts';
import { formatTime } from '../format.ts';
import { Empty, Failure, Loading } from '../states.tsx';
import { useLoad } from '../use-load.ts';

/** The modules whose consumers keep dead letters (consumingModules in src/apps/module-registry.ts). */
const modules = ['orders', 'inventory', 'payments', 'notifications', 'catalog', 'jobs'] as const;

interface DeadLetter {
  id: number;
  consumer: string;
  messageId: string;
  type: string;
  key: string;
  attempts: number;
  lastError: string;
  failedAt: string;
  payload: unknown;
}

/** Messages a consumer gave up on, per module (GET /v1/admin/{module}/dead-letters), each with its payload and a replay. */
export function DeadLettersPage() {
  const [module, setModule] = useState<(typeof modules)[number]>('orders');
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const { loaded, reload } = useLoad(() => api<{ items: DeadLetter[] }>(`/v1/admin/${module}/dead-letters?limit=50`), module);
  return (
    <>
      <div className="toolbar">
        <label htmlFor="dead-letter-module">Module</label>
        <select id="dead-letter-module" value={module} onChange={(event) => { setModule(event.target.value as (typeof modules)[number]); setNotice(undefined); }}>
          {modules.map((name) => <option key={name} value={name}>{name}</option>)}
        </select>
        <button type="button" onClick={reload}>Refresh</button>
      </div>
      <p role="status" aria-live="polite" className="notice">{notice ?? ''}</p>
      {loaded.state === 'loading' ? <Loading what="dead letters" /> : null}
      {loaded.state === 'failed' ? <Failure error={loaded.error} retry={reload} /> : null}
      {loaded.state === 'ready' && loaded.value.items.length === 0 ? <Empty>No dead letters in {module}: every message was handled.</Empty> : null}
      {loaded.state === 'ready' && loaded.value.items.length > 0 ? (
        <ul className="cards">
          {loaded.value.items.map((letter) => (
            <DeadLetterCard key={letter.id} module={module} letter={letter} onReplayed={() => { setNotice(`Dead letter ${letter.id} sent back to ${letter.consumer}.`); reload(); }} />
          ))}
        </ul>
      ) : null}
    </>
  );
}

function DeadLetterCard({ module, letter, onReplayed }: { module: string; letter: DeadLetter; onReplayed: () => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const replay = () => {
    setBusy(true);
    setError(undefined);
    post(`/v1/admin/${module}/dead-letters/${letter.id}/replay`).then(onReplayed, (failure: unknown) => { setError(failure); setBusy(false); });
  };
  return (
    <li className="card">
      <h2 className="card-title"><code>{letter.type}</code> for <code>{letter.key}</code></h2>
      <dl className="facts">
        <div><dt>Consumer</dt><dd>{letter.consumer}</dd></div>
        <div><dt>Attempts</dt><dd>{letter.attempts}</dd></div>
        <div><dt>Failed</dt><dd>{formatTime(letter.failedAt)}</dd></div>
        <div><dt>Message</dt><dd><code>{letter.messageId}</code></dd></div>
      </dl>
      <p className="error-text">{letter.lastError}</p>
      <details>
        <summary>Payload</summary>
        <pre>{JSON.stringify(letter.payload, null, 2)}</pre>
      </details>
      <button type="button" onClick={replay} disabled={busy} aria-label={`Replay dead letter ${letter.id}`}>{busy ? 'Replaying…' : 'Replay'}</button>
      {error === undefined ? null : <Failure error={error} />}
    </li>
  );
}
