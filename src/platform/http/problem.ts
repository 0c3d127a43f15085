import { z } from 'zod';

/** Base of every problem `type` OrderStream returns; the part after it is stable and documented. */
export const problemTypeBase = 'https://orderstream.dev/problems/';

/** An RFC 9457 problem details body. */
export const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().optional(),
  instance: z.string().optional(),
  requestId: z.string().optional(),
  errors: z.array(z.object({ location: z.string(), field: z.string(), message: z.string() })).optional(),
}).meta({ id: 'Problem' });

export type Problem = z.infer<typeof problemSchema>;
export type FieldError = NonNullable<Problem['errors']>[number];

/** Thrown by inbound adapters to answer with a problem; the app's error handler renders it. */
export class HttpProblem extends Error {
  readonly status: number;
  readonly slug: string;
  readonly title: string;
  readonly detail: string | undefined;
  readonly errors: FieldError[] | undefined;
  /** Response headers that belong with the problem (Retry-After, WWW-Authenticate). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(options: { status: number; slug: string; title: string; detail?: string; errors?: FieldError[]; headers?: Record<string, string> }) {
    super(options.detail ?? options.title);
    this.name = 'HttpProblem';
    this.status = options.status;
    this.slug = options.slug;
    this.title = options.title;
    this.detail = options.detail;
    this.errors = options.errors;
    this.headers = options.headers ?? {};
  }

  toProblem(instance: string, requestId: string): Problem {
    return {
      type: problemTypeBase + this.slug,
      title: this.title,
      status: this.status,
      ...(this.detail === undefined ? {} : { detail: this.detail }),
      instance,
      requestId,
      ...(this.errors === undefined ? {} : { errors: this.errors }),
    };
  }
}

/** 404 for a resource that does not exist (or that the caller may not know exists). */
export function notFound(detail: string): HttpProblem {
  return new HttpProblem({ status: 404, slug: 'not-found', title: 'Not found', detail });
}

/** 400 for a request that is well-formed JSON but breaks a rule, naming the fields at fault. */
export function invalidRequest(detail: string, errors?: FieldError[]): HttpProblem {
  return new HttpProblem({ status: 400, slug: 'validation-error', title: 'The request is not valid', detail, ...(errors ? { errors } : {}) });
}

/** 409 for a request that conflicts with the current state of a resource. */
export function conflict(detail: string): HttpProblem {
  return new HttpProblem({ status: 409, slug: 'conflict', title: 'Conflict', detail });
}
