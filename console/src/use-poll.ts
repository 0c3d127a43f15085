import { useCallback, useEffect, useRef, useState } from 'react';
import type { Loaded } from './use-load.ts';

/** A polled view's state: as `useLoad`'s, plus when the value shown was read. */
export type Polled<T> = Loaded<T> & { readAt?: Date };

/**
 * Runs `load` now, whenever `key` changes, and again every `intervalMs` while the tab is visible
 * (a hidden tab asks nothing; showing it again reads at once). A refresh keeps the value shown
 * until the new one arrives, so the view does not flicker; a failed refresh shows the failure.
 */
export function usePoll<T>(load: () => Promise<T>, key: string, intervalMs: number): { loaded: Polled<T>; refresh: () => void } {
  const [loaded, setLoaded] = useState<Polled<T>>({ state: 'loading' });
  const latest = useRef(load);
  latest.current = load;
  const [round, setRound] = useState(0);
  useEffect(() => {
    setLoaded({ state: 'loading' });
  }, [key]);
  useEffect(() => {
    let current = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let inFlight = false;
    const read = () => {
      timer = undefined;
      if (document.hidden || inFlight) return;
      inFlight = true;
      latest.current().then(
        (value) => { if (current) setLoaded({ state: 'ready', value, readAt: new Date() }); },
        (error: unknown) => { if (current) setLoaded({ state: 'failed', error }); },
      ).finally(() => {
        inFlight = false;
        if (current && !document.hidden) timer = setTimeout(read, intervalMs);
      });
    };
    const onVisibility = () => {
      if (!document.hidden && timer === undefined && !inFlight) read();
      if (document.hidden && timer !== undefined) { clearTimeout(timer); timer = undefined; }
    };
    read();
    document.addEventListener('visibilitychange', onVisibility);
    return () => {
      current = false;
      if (timer !== undefined) clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisibility);
    };
  }, [key, round, intervalMs]);
  const refresh = useCallback(() => { setRound((value) => value + 1); }, []);
  return { loaded, refresh };
}
