import type { ReactNode } from 'react';
import { ApiError } from './api.ts';
import type { Loaded } from './use-load.ts';

/** What a view shows while it waits. */
export function Loading({ what }: { what: string }) {
  return <p className="state" role="status" aria-live="polite">Loading {what}…</p>;
}

/** What a view shows when there is nothing to list. */
export function Empty({ children }: { children: ReactNode }) {
  return <p className="state state-empty">{children}</p>;
}

/** A failed call, told plainly, with a way to try again. */
export function Failure({ error, retry }: { error: unknown; retry?: () => void }) {
  const title = error instanceof ApiError ? error.title : 'Something went wrong';
  const detail = error instanceof Error ? error.message : String(error);
  return (
    <div className="state state-error" role="alert">
      <p><strong>{title}</strong>{detail !== title ? ` — ${detail}` : ''}</p>
      {retry === undefined ? null : <button type="button" onClick={retry}>Try again</button>}
    </div>
  );
}

/** A wide table that scrolls sideways on a narrow screen, reachable by keyboard. */
export function TableScroll({ label, children }: { label: string; children: ReactNode }) {
  return <div className="table-scroll" role="region" aria-label={label} tabIndex={0}>{children}</div>;
}

/**
 * A loaded list in its four states: loading, failed (with a retry), empty, or its table of `items`
 * (drawn by `children`).
 */
export function ListStates<T>({ loaded, what, retry, empty, children }: {
  loaded: Loaded<{ items: readonly T[] }>;
  what: string;
  retry: () => void;
  empty: ReactNode;
  children: (items: readonly T[]) => ReactNode;
}) {
  if (loaded.state === 'loading') return <Loading what={what} />;
  if (loaded.state === 'failed') return <Failure error={loaded.error} retry={retry} />;
  return loaded.value.items.length === 0 ? <Empty>{empty}</Empty> : children(loaded.value.items);
}
