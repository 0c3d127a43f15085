import { AsyncLocalStorage } from 'node:async_hooks';

/** Identifiers that follow one unit of work (a request, a message) into every log line it causes. */
export interface WorkContext {
  requestId?: string;
  /** Of the active OpenTelemetry span; the logger adds these itself while a span is active. */
  traceId?: string;
  spanId?: string;
  messageId?: string;
  orderId?: string;
  jobId?: string;
}

const storage = new AsyncLocalStorage<WorkContext>();

/** Runs `work` with `context` merged over the current one, visible to every log line it writes. */
export function runWithContext<T>(context: WorkContext, work: () => T): T {
  return storage.run({ ...storage.getStore(), ...context }, work);
}

/** The context of the work in progress, or an empty one outside any. */
export function currentContext(): WorkContext {
  return storage.getStore() ?? {};
}

/** Adds fields to the current context (for example an order id learned half way through a request). */
export function addToContext(fields: WorkContext): void {
  const store = storage.getStore();
  if (store) Object.assign(store, fields);
}
