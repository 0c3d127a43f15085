import type { components } from './openapi-types.ts';

/** One field at fault in a refused request, as the API names it. */
export type FieldError = NonNullable<components['schemas']['Problem']['errors']>[number];

/** The base of every problem `type` OrderStream answers with; what follows it is stable. */
export const problemTypeBase = 'https://orderstream.dev/problems/';

/**
 * An RFC 9457 problem the API answered with, thrown by every call of the client that did not
 * succeed. `type` is stable and worth branching on (`slug` is its last part); `requestId` is what
 * support asks for; `errors` names the fields at fault of a refused request.
 */
export class OrderStreamProblem extends Error {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string | undefined;
  readonly instance: string | undefined;
  readonly requestId: string | undefined;
  readonly errors: readonly FieldError[];
  /** The response's Retry-After, when the server said when to come back (429, 503). */
  readonly retryAfter: string | undefined;

  constructor(problem: {
    type: string; title: string; status: number; detail?: string | undefined; instance?: string | undefined;
    requestId?: string | undefined; errors?: readonly FieldError[] | undefined; retryAfter?: string | undefined;
  }) {
    super(problem.detail ?? problem.title);
    this.name = 'OrderStreamProblem';
    this.type = problem.type;
    this.title = problem.title;
    this.status = problem.status;
    this.detail = problem.detail;
    this.instance = problem.instance;
    this.requestId = problem.requestId;
    this.errors = problem.errors ?? [];
    this.retryAfter = problem.retryAfter;
  }

  /** The stable last part of `type` (`validation-error`, `idempotency-key-reused`), or `type` itself if foreign. */
  get slug(): string {
    return this.type.startsWith(problemTypeBase) ? this.type.slice(problemTypeBase.length) : this.type;
  }

  /**
   * The problem a failed response carries. `body` is the response body as already read (parsed JSON
   * or text); a body that is not a problem (a proxy's HTML page) still gives one, of type
   * `about:blank` with the HTTP status, so callers handle a single error type.
   */
  static fromResponse(response: Response, body: unknown): OrderStreamProblem {
    const requestId = response.headers.get('x-request-id') ?? undefined;
    const retryAfter = response.headers.get('retry-after') ?? undefined;
    if (isProblemBody(body)) {
      return new OrderStreamProblem({
        type: body.type, title: body.title ?? response.statusText, status: body.status ?? response.status, detail: body.detail,
        instance: body.instance, requestId: body.requestId ?? requestId, errors: body.errors?.filter(isFieldError), retryAfter,
      });
    }
    return new OrderStreamProblem({
      type: 'about:blank', title: response.statusText || `HTTP ${String(response.status)}`, status: response.status,
      detail: typeof body === 'string' && body !== '' ? body.slice(0, 500) : undefined, requestId, retryAfter,
    });
  }
}

/** Thrown by the waiting helpers when the deadline passes first; `last` is what was last read. */
export class WaitTimeoutError<Last> extends Error {
  readonly last: Last;

  constructor(what: string, timeoutMs: number, last: Last) {
    super(`${what} after ${String(timeoutMs)} ms`);
    this.name = 'WaitTimeoutError';
    this.last = last;
  }
}

interface ProblemBody {
  type: string; title?: string; status?: number; detail?: string; instance?: string; requestId?: string; errors?: unknown[];
}

function isProblemBody(body: unknown): body is ProblemBody {
  if (typeof body !== 'object' || body === null) return false;
  const candidate = body as Record<string, unknown>;
  return typeof candidate.type === 'string'
    && (candidate.status === undefined || typeof candidate.status === 'number')
    && (candidate.errors === undefined || Array.isArray(candidate.errors));
}

function isFieldError(value: unknown): value is FieldError {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return typeof candidate.field === 'string' && typeof candidate.message === 'string';
}

/** The outcome openapi-fetch answers with: data on success, the parsed body as `error` otherwise. */
export interface CallResult<Data> {
  data?: Data;
  error?: unknown;
  response: Response;
}

/** The data of a successful call; an {@link OrderStreamProblem} otherwise. */
export async function unwrap<Data>(pending: Promise<CallResult<Data>>): Promise<Data> {
  const result = await pending;
  if (!result.response.ok) throw OrderStreamProblem.fromResponse(result.response, result.error);
  return result.data as Data;
}
