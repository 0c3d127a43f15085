import type fc from 'fast-check';

/** What a fuzzed case is made of: the hints it draws from, who sends it, the request and its answer. */

/** What the fuzzer knows beyond the document, so valid requests reach real data and the handler's success path. */
export interface FuzzHints {
  /** Values for a parameter or body property of this name (`sku`, `email`, `id`), mixed with values from its schema. */
  byName?: Readonly<Record<string, fc.Arbitrary<unknown>>>;
  /** The same, for one operation only (`GET /v1/orders/{id}` → `id`); wins over `byName`. */
  byOperation?: Readonly<Record<string, Readonly<Record<string, fc.Arbitrary<unknown>>>>>;
  /** Operations whose body is multipart/form-data (the document cannot say so): a valid and an invalid file of each. */
  multipart?: Readonly<Record<string, { validFile: MultipartFile; invalidFiles: readonly MultipartFile[] }>>;
  /**
   * By operation, body values the sweep's requests must not share (a new SKU to create, a new email
   * to register), made from the sweep case's index: otherwise every case after the first is refused
   * as a conflict before the swept value is read.
   */
  sweepUnique?: Readonly<Record<string, Readonly<Record<string, (index: number) => unknown>>>>;
}

/** One file part of a multipart upload. */
export interface MultipartFile {
  label: string;
  field: string;
  filename: string;
  contentType: string;
  content: string | Uint8Array;
}

/** Who sends a request: the role the route needs, a role it does not allow, nobody, or a token that is not one. */
export type CallerKind = 'required' | 'other' | 'anonymous' | 'forged';

export const callerKinds: readonly CallerKind[] = ['required', 'other', 'anonymous', 'forged'];

/** One request as sent: `url` is already percent-encoded (and may be encoded wrongly on purpose). */
export interface FuzzRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
}

/** A generated case: the request, whether it follows the document, what was broken, and who sends it. */
export interface FuzzCase {
  operation: string;
  /** `valid`, or what was broken (`body.email: NUL`, `query.cursor repeated`, `content-type text/plain`). */
  mutation: string;
  valid: boolean;
  /** Sent with another method or another spelling of the path: its answer is not this operation's. */
  routeChanged: boolean;
  caller: CallerKind;
  request: FuzzRequest;
}

/** An answer as the transport received it. */
export interface FuzzResponse {
  statusCode: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: string;
}
