import { Readable } from 'node:stream';
import fastifyMultipart, { type MultipartFile } from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import type { HttpApp } from '../../../../platform/http/app.ts';
import { decodeCursor, encodeCursor } from '../../../../platform/http/cursor.ts';
import { requirePrincipal } from '../../../../platform/http/principal.ts';
import { HttpProblem, invalidRequest, notFound, problemSchema, type FieldError } from '../../../../platform/http/problem.ts';
import { containsNulCharacter, nulCharacterMessage } from '../../../../platform/http/request-text.ts';
import { addToContext } from '../../../../platform/logging/request-context.ts';
import type { CancelJob } from '../../application/cancel-job.ts';
import type { FollowJob } from '../../application/follow-job.ts';
import type { GetExportFile } from '../../application/get-export-file.ts';
import type { GetInvoice } from '../../application/get-invoice.ts';
import type { GetJob } from '../../application/get-job.ts';
import type { ListJobs } from '../../application/list-jobs.ts';
import type { StartExport } from '../../application/start-export.ts';
import type { StartImport } from '../../application/start-import.ts';
import { echoed } from '../../domain/echoed-text.ts';
import {
  DocumentTooLargeError, ExportNotReadyError, InvalidImportFileError, InvoiceNotFoundError, JobNotCancellableError, JobNotFoundError, JobQueueUnavailableError,
} from '../../domain/job.errors.ts';
import { exportRoutes } from './export-routes.ts';
import { jobEventsRoute, type JobEventsOptions } from './job-events-route.ts';
import { jobAcceptedDto, jobDto, jobIdParams, jobPageDto, listJobsQuery, orderIdParams, rowErrorsCsv, toJobDto } from './job-dtos.ts';

export interface JobsUseCases {
  startImport: StartImport;
  getJob: GetJob;
  listJobs: ListJobs;
  cancelJob: CancelJob;
  getInvoice: GetInvoice;
  followJob: FollowJob;
  startExport: StartExport;
  getExportFile: GetExportFile;
}

const problems = { 400: problemSchema, 401: problemSchema, 403: problemSchema, 404: problemSchema, 409: problemSchema, 413: problemSchema, 415: problemSchema, 503: problemSchema };

// What browsers and curl send for a .csv file; anything else is not taken for CSV.
const csvMediaTypes = new Set(['text/csv', 'application/csv', 'text/plain', 'application/vnd.ms-excel']);

/**
 * The jobs API: CSV imports, order exports, job state, cancellation, error reports and invoices. Multipart parsing
 * is registered inside this plugin only, so no other route accepts uploads.
 */
export function jobsRoutes(useCases: JobsUseCases, options: { devIdentityHeaders: boolean; importMaxBytes: number; events: JobEventsOptions }) {
  const requireAdmin = (request: FastifyRequest) => {
    const caller = requirePrincipal(request, options);
    if (!caller.roles.includes('admin')) throw new HttpProblem({ status: 403, slug: 'forbidden', title: 'Forbidden', detail: 'Only admins may use document jobs.' });
    return caller;
  };

  return (app: HttpApp): void => {
    void app.register(async (scoped: HttpApp) => {
      await scoped.register(fastifyMultipart, { limits: { fileSize: options.importMaxBytes, files: 1, fields: 10, parts: 20 } });

      scoped.post('/v1/imports', {
        schema: {
          tags: ['jobs'], summary: 'Upload a catalogue CSV (multipart/form-data, part "file"); answers 202 with the job at once',
          consumes: ['multipart/form-data'], response: { 202: jobAcceptedDto, ...problems },
        },
      }, async (request, reply) => {
        requireAdmin(request);
        if (!request.isMultipart()) {
          throw new HttpProblem({ status: 415, slug: 'unsupported-media-type', title: 'Unsupported content type', detail: 'Send the CSV as multipart/form-data with a "file" part.' });
        }
        const part = await request.file().catch((error: unknown) => mapJobsError(asMalformedUpload(error)));
        if (part === undefined) throw invalidRequest('The upload has no file part', [{ location: 'body', field: 'file', message: 'is required' }]);
        const nulFields = nulCharacterFields(part);
        if (nulFields.length > 0) {
          part.file.resume();
          throw invalidRequest('The upload contains the NUL character (U+0000), which no text may hold', nulFields);
        }
        if (!isCsv(part.mimetype, part.filename)) {
          part.file.resume();
          throw new HttpProblem({ status: 415, slug: 'unsupported-media-type', title: 'Unsupported content type', detail: `The file must be CSV (text/csv), not ${echoed(part.mimetype)}.` });
        }
        const job = await useCases.startImport.execute({ content: failWhenTruncated(part.file, options.importMaxBytes), requestId: request.id }).catch(mapJobsError);
        addToContext({ jobId: job.id });
        const statusUrl = `/v1/jobs/${job.id}`;
        return reply.status(202).header('location', statusUrl).send({ id: job.id, status: 'queued' as const, statusUrl });
      });

      scoped.get('/v1/jobs/:id', {
        schema: { tags: ['jobs'], summary: 'A job: status, progress, counts and the first 1,000 row errors', params: jobIdParams, response: { 200: jobDto, ...problems } },
      }, async (request) => {
        requireAdmin(request);
        const { job, rowErrors } = await useCases.getJob.execute(request.params.id).catch(mapJobsError);
        return toJobDto(job, rowErrors);
      });

      jobEventsRoute(useCases.followJob, requireAdmin, options.events)(scoped);
      exportRoutes(useCases, requireAdmin, mapJobsError)(scoped);

      scoped.get('/v1/jobs/:id/errors.csv', {
        schema: { tags: ['jobs'], summary: 'The rejected rows of an import as CSV (line,reason,columns)', params: jobIdParams },
      }, async (request, reply) => {
        requireAdmin(request);
        const { job, rowErrors } = await useCases.getJob.execute(request.params.id).catch(mapJobsError);
        return reply.type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="${job.id}-errors.csv"`)
          .send(rowErrorsCsv(rowErrors));
      });

      scoped.get('/v1/jobs', {
        schema: { tags: ['jobs'], summary: 'Jobs, newest first', querystring: listJobsQuery, response: { 200: jobPageDto, ...problems } },
      }, async (request) => {
        requireAdmin(request);
        const { cursor, limit } = request.query;
        const page = await useCases.listJobs.execute({ limit, ...(cursor === undefined ? {} : { after: decodeCursor(cursor) }) }).catch(mapJobsError);
        return { items: page.items.map((job) => toJobDto(job)), nextCursor: page.next === null ? null : encodeCursor(page.next) };
      });

      scoped.post('/v1/jobs/:id/cancel', {
        schema: { tags: ['jobs'], summary: 'Cancel a queued or running job', params: jobIdParams, response: { 200: jobDto, ...problems } },
      }, async (request) => {
        requireAdmin(request);
        const job = await useCases.cancelJob.execute(request.params.id).catch(mapJobsError);
        return toJobDto(job);
      });

      scoped.get('/v1/orders/:id/invoice', {
        schema: { tags: ['jobs'], summary: "An order's invoice PDF (owner or admin; drawn on the first download; 404 until the order is confirmed)", params: orderIdParams },
      }, async (request, reply) => {
        const caller = requirePrincipal(request, options);
        const content = await useCases.getInvoice.execute(request.params.id, { id: caller.id, isAdmin: caller.roles.includes('admin') }).catch(mapJobsError);
        return reply.type('application/pdf')
          .header('content-disposition', `inline; filename="invoice-${request.params.id}.pdf"`)
          .send(Readable.from(content));
      });
    });
  };
}

/**
 * The upload's bytes; multipart cuts a file at its size limit, which must fail the upload rather
 * than store half a file. A failure of the multipart stream itself (a body that ends before its
 * closing boundary, a broken part header) is the client's, and is refused as a malformed upload.
 */
async function* failWhenTruncated(file: AsyncIterable<Uint8Array> & { truncated: boolean }, maxBytes: number): AsyncIterable<Uint8Array> {
  const chunks = file[Symbol.asyncIterator]();
  for (;;) {
    let next: IteratorResult<Uint8Array>;
    try {
      next = await chunks.next();
    } catch (error) {
      throw asMalformedUpload(error);
    }
    if (next.done === true) break;
    yield next.value;
  }
  if (file.truncated) throw new DocumentTooLargeError(maxBytes);
}

/** The multipart body could not be parsed; the parser's errors carry no code, only their message. */
class MalformedUploadError extends Error {
  constructor(cause: unknown) {
    super(`The body is not valid multipart/form-data: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = 'MalformedUploadError';
  }
}

/** A multipart parser's error (it has no `code`, only a message) as a malformed upload; anything else unchanged. */
function asMalformedUpload(error: unknown): unknown {
  if (!(error instanceof Error) || error instanceof DocumentTooLargeError || codeOf(error) !== undefined) return error;
  return /multipart|boundary|unexpected end|malformed part header|part terminated/i.test(error.message) ? new MalformedUploadError(error) : error;
}

/** The form fields and file name of an upload holding a NUL, refused as the JSON body's text is. */
function nulCharacterFields(part: MultipartFile): FieldError[] {
  const errors: FieldError[] = [];
  if (containsNulCharacter(part.filename)) errors.push({ location: 'body', field: 'file', message: `its file name ${nulCharacterMessage}` });
  for (const field of Object.values(part.fields).flat()) {
    if (field?.type !== 'field') continue;
    const text = typeof field.value === 'string' ? field.value : '';
    if (containsNulCharacter(field.fieldname) || containsNulCharacter(text)) {
      errors.push({ location: 'body', field: echoed(field.fieldname).replaceAll('\u0000', '\\u0000'), message: nulCharacterMessage });
    }
  }
  return errors;
}

function isCsv(mimetype: string, filename: string): boolean {
  const type = mimetype.split(';')[0]?.trim().toLowerCase() ?? '';
  return csvMediaTypes.has(type) || (type === 'application/octet-stream' && filename.toLowerCase().endsWith('.csv'));
}

function mapJobsError(error: unknown): never {
  if (error instanceof JobNotFoundError || error instanceof InvoiceNotFoundError) throw notFound(error.message);
  if (error instanceof ExportNotReadyError) throw new HttpProblem({ status: 409, slug: 'export-not-ready', title: 'The export has not succeeded', detail: error.message });
  if (error instanceof JobNotCancellableError) throw new HttpProblem({ status: 409, slug: 'job-not-cancellable', title: 'Job already ended', detail: error.message });
  if (error instanceof InvalidImportFileError) throw invalidRequest(error.message, [{ location: 'body', field: 'file', message: error.message }]);
  if (error instanceof DocumentTooLargeError || codeOf(error) === 'FST_REQ_FILE_TOO_LARGE') {
    throw new HttpProblem({ status: 413, slug: 'body-too-large', title: 'The file is too large', detail: `The file is larger than the limit of the import upload.` });
  }
  if (error instanceof MalformedUploadError || codeOf(error) === 'FST_INVALID_MULTIPART_CONTENT_TYPE' || codeOf(error) === 'FST_NO_FORM_DATA') {
    throw invalidRequest('The body is not valid multipart/form-data', [{ location: 'body', field: 'file', message: 'is required' }]);
  }
  if (error instanceof JobQueueUnavailableError) throw new HttpProblem({ status: 503, slug: 'service-unavailable', title: 'Try again shortly', detail: error.message });
  throw error;
}

function codeOf(error: unknown): unknown {
  return (error as { code?: unknown } | null)?.code;
}
