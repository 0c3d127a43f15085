import { useEffect, useRef, useState, type SyntheticEvent, type KeyboardEvent } from 'react';
import { api } from '../api.ts';
import { formatCount } from '../format.ts';
import { Pager } from '../pager.tsx';
import { Empty, Failure, Loading, TableScroll } from '../states.tsx';
import { useLoad } from '../use-load.ts';
import type { Page } from './order-types.tsx';

interface StockLevel { sku: string; onHand: number; reserved: number; available: number }

const pageSize = 50;

/** Stock per SKU (GET /v1/admin/stock-levels), a low-stock filter, and on-hand edited in place (PUT /v1/inventory/{sku}). */
export function InventoryPage() {
  const [below, setBelow] = useState<number | undefined>(undefined);
  const [cursors, setCursors] = useState<readonly (string | undefined)[]>([undefined]);
  const cursor = cursors.at(-1);
  const query = `limit=${pageSize}${below === undefined ? '' : `&below=${below}`}${cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`}`;
  const { loaded, reload } = useLoad(() => api<Page<StockLevel>>(`/v1/admin/stock-levels?${query}`), query);
  return (
    <>
      <LowStockFilter below={below} onApply={(value) => { setBelow(value); setCursors([undefined]); }} onRefresh={reload} />
      {loaded.state === 'loading' ? <Loading what="stock levels" /> : null}
      {loaded.state === 'failed' ? <Failure error={loaded.error} retry={reload} /> : null}
      {loaded.state === 'ready' && loaded.value.items.length === 0 && cursors.length === 1
        ? <Empty>{below === undefined ? 'No stock recorded yet. Set a SKU’s stock through the API or a CSV import.' : `No SKU has fewer than ${formatCount(below)} available.`}</Empty>
        : null}
      {loaded.state === 'ready' && (loaded.value.items.length > 0 || cursors.length > 1) ? (
        <>
          <TableScroll label="Stock levels">
            <table>
              <caption>{below === undefined ? 'Every SKU' : `SKUs with fewer than ${formatCount(below)} available`}, page {cursors.length}</caption>
              <thead><tr><th scope="col">SKU</th><th scope="col">On hand</th><th scope="col" className="number">Reserved</th><th scope="col" className="number">Available</th></tr></thead>
              <tbody>{loaded.value.items.map((level) => <StockRow key={level.sku} level={level} />)}</tbody>
            </table>
          </TableScroll>
          <Pager cursors={cursors} nextCursor={loaded.value.nextCursor} setCursors={setCursors} />
        </>
      ) : null}
    </>
  );
}

function LowStockFilter({ below, onApply, onRefresh }: { below: number | undefined; onApply: (below: number | undefined) => void; onRefresh: () => void }) {
  const [draft, setDraft] = useState(below === undefined ? '' : String(below));
  const [invalid, setInvalid] = useState(false);
  const submit = (event: SyntheticEvent) => {
    event.preventDefault();
    const value = draft.trim();
    if (value === '') { setInvalid(false); onApply(undefined); return; }
    const parsed = wholeNumber(value);
    setInvalid(parsed === undefined || parsed < 1);
    if (parsed !== undefined && parsed >= 1) onApply(parsed);
  };
  return (
    <form className="filters" onSubmit={submit} aria-label="Low-stock filter">
      <div className="field">
        <label htmlFor="low-stock">Low stock: fewer than this many available</label>
        <input id="low-stock" inputMode="numeric" value={draft} onChange={(event) => { setDraft(event.target.value); }} aria-invalid={invalid} aria-describedby="low-stock-hint" />
        <span id="low-stock-hint" className={invalid ? 'error-text' : 'muted'}>{invalid ? 'Enter a whole number of at least 1, or leave it empty for every SKU.' : 'Empty shows every SKU.'}</span>
      </div>
      <div className="field-actions">
        <button type="submit">Show</button>
        <button type="button" className="secondary" onClick={() => { setDraft('10'); setInvalid(false); onApply(10); }}>Fewer than 10</button>
        <button type="button" className="secondary" onClick={onRefresh}>Refresh</button>
      </div>
    </form>
  );
}

/** A whole number written in digits only (no sign, no decimals, no exponent); undefined otherwise. */
function wholeNumber(text: string): number | undefined {
  return /^\d{1,10}$/.test(text) ? Number(text) : undefined;
}

/** One SKU; its on-hand is edited in place: Enter saves, Escape gives up, and focus comes back to its Edit button. */
function StockRow({ level: loadedLevel }: { level: StockLevel }) {
  const [level, setLevel] = useState(loadedLevel);
  const [editing, setEditing] = useState(false);
  const editButton = useRef<HTMLButtonElement>(null);
  const wasEditing = useRef(false);
  useEffect(() => {
    if (wasEditing.current && !editing) editButton.current?.focus();
    wasEditing.current = editing;
  }, [editing]);
  const [draft, setDraft] = useState(String(level.onHand));
  const [problem, setProblem] = useState<unknown>(undefined);
  const [invalid, setInvalid] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const inputId = `on-hand-${level.sku}`;
  const stop = () => { setEditing(false); setDraft(String(level.onHand)); setInvalid(undefined); setProblem(undefined); };
  const save = (event: SyntheticEvent) => {
    event.preventDefault();
    const onHand = wholeNumber(draft.trim());
    if (onHand === undefined) { setInvalid('On hand must be a whole number of 0 or more.'); return; }
    setInvalid(undefined);
    setProblem(undefined);
    setBusy(true);
    api<StockLevel>(`/v1/inventory/${encodeURIComponent(level.sku)}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ onHand }) }).then(
      (saved) => { setBusy(false); setLevel(saved); setEditing(false); },
      (failure: unknown) => { setBusy(false); setProblem(failure); },
    );
  };
  const escape = (event: KeyboardEvent) => { if (event.key === 'Escape') stop(); };
  return (
    <tr>
      <td><code>{level.sku}</code></td>
      <td>
        {editing ? (
          <form className="inline-edit" onSubmit={save} onKeyDown={escape} aria-label={`On hand of ${level.sku}`}>
            <label htmlFor={inputId} className="visually-hidden">On hand for {level.sku}</label>
            <input id={inputId} inputMode="numeric" value={draft} onChange={(event) => { setDraft(event.target.value); }} aria-invalid={invalid !== undefined} aria-describedby={invalid === undefined ? undefined : `${inputId}-error`} autoFocus />
            <button type="submit" disabled={busy}>{busy ? 'Saving…' : 'Save'}</button>
            <button type="button" className="secondary" onClick={stop}>Cancel</button>
            {invalid === undefined ? null : <p id={`${inputId}-error`} className="error-text" role="alert">{invalid}</p>}
            {problem === undefined ? null : <Failure error={problem} />}
          </form>
        ) : (
          <span className="on-hand">
            <span className="number-value">{formatCount(level.onHand)}</span>
            <button ref={editButton} type="button" className="secondary small" onClick={() => { setDraft(String(level.onHand)); setEditing(true); }} aria-label={`Edit on hand of ${level.sku}`}>Edit</button>
          </span>
        )}
      </td>
      <td className="number">{formatCount(level.reserved)}</td>
      <td className={`number${level.available <= 0 ? ' out' : ''}`}>{formatCount(level.available)}</td>
    </tr>
  );
}
