/** A fetch as openapi-fetch calls it: one Request in, one Response out. */
export type FetchRequest = (request: Request) => Promise<Response>;

export interface RetryOptions {
  /** Tries in all, the first included. Default 4. */
  attempts?: number;
  /** First backoff when the server names no Retry-After; doubled each time. Default 200 ms. */
  baseDelayMs?: number;
  /** Longest wait between two tries; a Retry-After beyond it is not waited for (the response is answered). Default 30 s. */
  maxDelayMs?: number;
  /** Replaced in tests; waits `ms` or until `signal` aborts. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Replaced in tests; the clock a Retry-After date is read against. */
  now?: () => number;
}

/** The statuses that mean "not now, try again": too many requests, overloaded. */
const retriedStatuses = new Set([429, 503]);
const idempotentMethods = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/**
 * Whether sending `request` twice can do its effect only once: an idempotent method, or a key the
 * server deduplicates by. A POST without an Idempotency-Key is never retried, since the first try
 * may have succeeded before its answer was lost.
 */
export function mayRetry(request: Request): boolean {
  return idempotentMethods.has(request.method.toUpperCase()) || request.headers.has('idempotency-key');
}

/** Milliseconds a Retry-After header asks for (delta-seconds or an HTTP date), undefined if absent or unreadable. */
export function retryAfterMs(header: string | null, now: number): number | undefined {
  if (header === null) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function defaultSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) { reject(signal.reason as Error); return; }
    const timer = setTimeout(() => { signal.removeEventListener('abort', abort); resolve(); }, ms);
    const abort = () => { clearTimeout(timer); reject(signal.reason as Error); };
    signal.addEventListener('abort', abort, { once: true });
  });
}

/**
 * `fetch` that tries a retryable request again on 429 and 503, after the response's Retry-After
 * (else an exponential backoff), and after a network failure. Each try sends a clone, so a body is
 * sent whole every time, with the same headers (the same Idempotency-Key).
 */
export function withRetries(fetch: FetchRequest, options: RetryOptions = {}): FetchRequest {
  const attempts = Math.max(1, options.attempts ?? 4);
  const baseDelayMs = options.baseDelayMs ?? 200;
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  const sleep = options.sleep ?? defaultSleep;
  const now = options.now ?? Date.now;
  const backoff = (attempt: number) => Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
  return async (request) => {
    if (!mayRetry(request)) return fetch(request);
    for (let attempt = 1; ; attempt += 1) {
      const last = attempt >= attempts;
      let response: Response;
      try {
        response = await fetch(last ? request : request.clone());
      } catch (error) {
        if (last || request.signal.aborted) throw error;
        await sleep(backoff(attempt), request.signal);
        continue;
      }
      if (last || !retriedStatuses.has(response.status)) return response;
      const wait = retryAfterMs(response.headers.get('retry-after'), now()) ?? backoff(attempt);
      if (wait > maxDelayMs) return response;
      await response.body?.cancel();
      await sleep(wait, request.signal);
    }
  };
}
