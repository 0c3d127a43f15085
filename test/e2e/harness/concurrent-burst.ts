import type { OrderStreamProcess } from './orderstream-process.ts';

/**
 * Many clients calling one route at once, each with its own valid input, and the rule every answer
 * must keep under load: it comes in time, and is a success, a client error, or a 503 with
 * Retry-After (refused at capacity). Anything else (no answer, a 500) is a defect.
 */

/** One request of a burst. */
export interface BurstRequest {
  method: string;
  /** Path and query, e.g. `/v1/orders?limit=5`. */
  path: string;
  token?: string;
  headers?: Record<string, string>;
  /** A JSON body. */
  json?: unknown;
  /** A body sent as is (a signed payload, a form, a multipart upload). */
  body?: string | FormData | URLSearchParams;
}

/** What a client got back, or why it got nothing. */
export interface BurstAnswer {
  request: BurstRequest;
  status: number | undefined;
  retryAfter: string | null;
  contentType: string | null;
  text: string;
  /** Set when no complete answer came: a timeout or a broken connection. */
  failure: string | undefined;
  elapsedMs: number;
}

/** Sends every request at once; each gets `timeoutMs` for its whole answer, body included. */
export async function sendBurst(baseUrl: string, requests: readonly BurstRequest[], timeoutMs: number): Promise<BurstAnswer[]> {
  return Promise.all(requests.map((request) => send(baseUrl, request, timeoutMs)));
}

async function send(baseUrl: string, request: BurstRequest, timeoutMs: number): Promise<BurstAnswer> {
  const started = performance.now();
  const headers: Record<string, string> = {
    ...(request.json === undefined ? {} : { 'content-type': 'application/json' }),
    ...(request.token === undefined ? {} : { authorization: `Bearer ${request.token}` }),
    ...request.headers,
  };
  try {
    const response = await fetch(`${baseUrl}${request.path}`, {
      method: request.method,
      headers,
      ...(request.json === undefined ? {} : { body: JSON.stringify(request.json) }),
      ...(request.body === undefined ? {} : { body: request.body }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await response.text();
    return {
      request, status: response.status, retryAfter: response.headers.get('retry-after'), contentType: response.headers.get('content-type'),
      text, failure: undefined, elapsedMs: performance.now() - started,
    };
  } catch (error) {
    const elapsedMs = performance.now() - started;
    const failure = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')
      ? `no answer within ${String(timeoutMs)} ms`
      : `the connection failed after ${String(Math.round(elapsedMs))} ms: ${describeError(error)}`;
    return { request, status: undefined, retryAfter: null, contentType: null, text: '', failure, elapsedMs };
  }
}

function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error.cause instanceof Error ? `${error.message} (${error.cause.message})` : error.message;
}

/** True for an answer the rule allows: 2xx, 4xx, or 503 that says when to try again. */
export function isAcceptable(answer: BurstAnswer): boolean {
  const status = answer.status;
  if (status === undefined) return false;
  if (status >= 200 && status < 300) return true;
  if (status >= 400 && status < 500) return true;
  return status === 503 && answer.retryAfter !== null && /^\d+$/.test(answer.retryAfter.trim());
}

/** The request id a problem+json answer carries, to find the server's log of it. */
export function requestIdOf(answer: BurstAnswer): string | undefined {
  if (answer.contentType?.includes('json') !== true) return undefined;
  try {
    const body = JSON.parse(answer.text) as { requestId?: unknown };
    return typeof body.requestId === 'string' ? body.requestId : undefined;
  } catch {
    return undefined;
  }
}

/** How many answers of each status (or `none` for no answer), e.g. `200×10, 503×2`. */
export function statusCounts(answers: readonly BurstAnswer[]): string {
  const counts = new Map<string, number>();
  for (const answer of answers) {
    const key = answer.status === undefined ? 'none' : String(answer.status);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([status, count]) => `${status}×${String(count)}`).join(', ');
}

/** A position in every process's log, to read what was logged after it. */
export type LogMark = ReadonlyMap<string, number>;

/** The error lines OrderStream processes log, read back to explain a failed answer. */
export class ServerLogs {
  readonly #processes: ReadonlyMap<string, OrderStreamProcess>;

  constructor(processes: ReadonlyMap<string, OrderStreamProcess>) {
    this.#processes = processes;
  }

  mark(): LogMark {
    return new Map([...this.#processes].map(([name, process]) => [name, process.lines.length]));
  }

  /**
   * Error lines (level error or worse) logged since `mark`: with `requestId`, that request's; without
   * it, those carrying an exception (the failures a run expects, such as dead webhooks, carry none).
   */
  errorsSince(mark: LogMark, requestId?: string): string[] {
    const found: string[] = [];
    for (const [name, process] of this.#processes) {
      for (const line of process.lines.slice(mark.get(name) ?? 0)) {
        if (!isErrorLevel(line.level)) continue;
        if (requestId === undefined ? line.err === undefined : line.requestId !== requestId) continue;
        found.push(formatLine(name, line));
      }
    }
    return found;
  }

  /** Every line, at any level, whose error or message names `text` (e.g. `NestedConnectionError`). */
  linesNaming(text: string): string[] {
    const found: string[] = [];
    for (const [name, process] of this.#processes) {
      for (const line of process.lines) {
        if (JSON.stringify(line).includes(text)) found.push(formatLine(name, line));
      }
    }
    return found;
  }
}

/** Error or fatal: levels are written as labels (`"level":"error"`), or as pino's numbers elsewhere. */
function isErrorLevel(level: unknown): boolean {
  return level === 'error' || level === 'fatal' || (typeof level === 'number' && level >= 50);
}

function formatLine(processName: string, line: Record<string, unknown>): string {
  const error = line.err as { type?: unknown; message?: unknown; stack?: unknown } | undefined;
  const context = ['requestId', 'consumer', 'type', 'orderId', 'jobId']
    .filter((key) => typeof line[key] === 'string').map((key) => `${key}=${String(line[key])}`).join(' ');
  const head = `[${processName}] ${String(line.msg)}${context === '' ? '' : ` (${context})`}`;
  if (error === undefined) return head;
  const stack = typeof error.stack === 'string' ? error.stack : `${String(error.type)}: ${String(error.message)}`;
  return `${head}\n${indent(stack)}`;
}

function indent(text: string): string {
  return text.split('\n').map((line) => `    ${line}`).join('\n');
}

/**
 * Why a burst's answers break the rule, in words a reader can act on without rerunning it: each
 * unacceptable answer with its request, status and body, and the server's logged error for it.
 * Also fails a burst in which no answer had one of `expected` (the statuses of a served request),
 * since then the input, not the load, decided the answers and the route was never really exercised.
 */
export function burstFailures(route: string, answers: readonly BurstAnswer[], expected: readonly number[], logs: ServerLogs, mark: LogMark): string[] {
  const failures: string[] = [];
  const shown = new Set<string>();
  for (const answer of answers) {
    if (isAcceptable(answer)) continue;
    const what = answer.failure ?? `${String(answer.status)}${answer.status === 503 ? ' without a valid Retry-After' : ''}`;
    // Twelve identical failures say no more than the first one of each kind.
    const kind = `${what}|${answer.text.slice(0, 200)}`;
    if (shown.has(kind)) continue;
    shown.add(kind);
    const requestId = requestIdOf(answer);
    const logged = logs.errorsSince(mark, requestId);
    failures.push([
      `${route}: ${answer.request.method} ${answer.request.path} → ${what} after ${String(Math.round(answer.elapsedMs))} ms`,
      ...(answer.text === '' ? [] : [`  body: ${answer.text.slice(0, 2000)}`]),
      ...(logged.length === 0 ? ['  (no error logged by the server for it)'] : ['  logged by the server:', ...logged.slice(0, 3).map((line) => indent(line))]),
    ].join('\n'));
  }
  if (!answers.some((answer) => answer.status !== undefined && expected.includes(answer.status))) {
    failures.push(`${route}: no answer had an expected status (${expected.join(', ')}); got ${statusCounts(answers)}; first body: ${answers[0]?.text.slice(0, 500) ?? ''}`);
  }
  return failures;
}

/** Whether the process still serves: `/readyz` 200 and each of `requests` answered 200, each within `timeoutMs`. */
export async function livenessFailures(baseUrl: string, requests: readonly BurstRequest[], timeoutMs: number): Promise<string[]> {
  const answers = await Promise.all([{ method: 'GET', path: '/readyz' }, ...requests].map((request) => send(baseUrl, request, timeoutMs)));
  return answers.filter((answer) => answer.status !== 200)
    .map((answer) => `${answer.request.method} ${answer.request.path} → ${answer.failure ?? String(answer.status)}: ${answer.text.slice(0, 1000)}`);
}
