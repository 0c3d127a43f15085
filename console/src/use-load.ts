import { useCallback, useEffect, useState } from 'react';

/** One load's state: waiting, its value, or its failure. */
export type Loaded<T> = { state: 'loading' } | { state: 'ready'; value: T } | { state: 'failed'; error: unknown };

/** Runs `load` now and whenever `key` changes (or `reload` is called); a stale answer is dropped. */
export function useLoad<T>(load: () => Promise<T>, key: string): { loaded: Loaded<T>; reload: () => void } {
  const [loaded, setLoaded] = useState<Loaded<T>>({ state: 'loading' });
  const [round, setRound] = useState(0);
  useEffect(() => {
    let current = true;
    setLoaded({ state: 'loading' });
    load().then(
      (value) => { if (current) setLoaded({ state: 'ready', value }); },
      (error: unknown) => { if (current) setLoaded({ state: 'failed', error }); },
    );
    return () => { current = false; };
    // `load` is rebuilt on every render; `key` says when what it loads changed.
  }, [key, round]);
  const reload = useCallback(() => { setRound((value) => value + 1); }, []);
  return { loaded, reload };
}
