import { WaitTimeoutError } from './errors.ts';

export interface WaitOptions {
  /** Give up after this long with a {@link WaitTimeoutError}. Default 60 s. */
  timeoutMs?: number;
  /** First pause between two reads; grows by half each time up to `maxIntervalMs`. Default 250 ms. */
  intervalMs?: number;
  /** Default 5 s. */
  maxIntervalMs?: number;
  /** Stops waiting (the read under way is not cut short). */
  signal?: AbortSignal;
}

/** Reads with `read` until `done` holds of what it answered, backing off between reads. */
export async function pollUntil<Value>(read: () => Promise<Value>, done: (value: Value) => boolean, what: string, options: WaitOptions = {}): Promise<Value> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const maxIntervalMs = options.maxIntervalMs ?? 5_000;
  const deadline = Date.now() + timeoutMs;
  let interval = options.intervalMs ?? 250;
  for (;;) {
    options.signal?.throwIfAborted();
    const value = await read();
    if (done(value)) return value;
    const left = deadline - Date.now();
    if (left <= 0) throw new WaitTimeoutError(what, timeoutMs, value);
    await pause(Math.min(interval, left), options.signal);
    interval = Math.min(maxIntervalMs, Math.ceil(interval * 1.5));
  }
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { signal?.removeEventListener('abort', abort); resolve(); }, ms);
    const abort = () => { clearTimeout(timer); reject(signal?.reason as Error); };
    signal?.addEventListener('abort', abort, { once: true });
  });
}
