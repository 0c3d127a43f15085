import { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import type { HttpApp } from '../../../../platform/http/app.ts';
import { invalidRequest, problemSchema } from '../../../../platform/http/problem.ts';
import { addToContext } from '../../../../platform/logging/request-context.ts';
import type { GetExportFile } from '../../application/get-export-file.ts';
import type { StartExport } from '../../application/start-export.ts';
import type { ExportFilter, ExportFormat } from '../../domain/order-export.ts';
import { exportAcceptedDto, exportOrdersBody } from './export-dtos.ts';
import { jobIdParams } from './job-dtos.ts';

export interface ExportUseCases {
  startExport: StartExport;
  getExportFile: GetExportFile;
}

const problems = { 400: problemSchema, 401: problemSchema, 403: problemSchema, 404: problemSchema, 409: problemSchema, 503: problemSchema };

const mediaTypes: Record<ExportFormat, string> = { csv: 'text/csv; charset=utf-8', jsonl: 'application/x-ndjson; charset=utf-8' };

/**
 * Order exports: `POST /v1/exports/orders` queues one (202 with the job), and `GET /v1/jobs/{id}/file`
 * streams the file of one that succeeded. Admin-only, like every document job (`authorize`); the
 * job's state and progress are the jobs API's.
 */
export function exportRoutes(useCases: ExportUseCases, authorize: (request: FastifyRequest) => void, mapError: (error: unknown) => never) {
  return (app: HttpApp): void => {
    app.post('/v1/exports/orders', {
      schema: {
        tags: ['jobs'], summary: 'Export orders as CSV or JSON Lines; answers 202 with the job at once (admin)',
        description: 'Writes every order matching the filters placed before the request, newest first. CSV columns and the neutralising of formula-like cells are in the README.',
        body: exportOrdersBody, response: { 202: exportAcceptedDto, ...problems },
      },
    }, async (request, reply) => {
      authorize(request);
      const { format, ...filters } = request.body;
      if (filters.from !== undefined && filters.to !== undefined && new Date(filters.from) >= new Date(filters.to)) {
        throw invalidRequest('`from` must be before `to`', [{ location: 'body', field: 'from', message: 'is not before to' }]);
      }
      const filter: ExportFilter = filters;
      const job = await useCases.startExport.execute({ format: format ?? formatAccepted(request), filter, requestId: request.id }).catch(mapError);
      addToContext({ jobId: job.id });
      const statusUrl = `/v1/jobs/${job.id}`;
      return reply.status(202).header('location', statusUrl).send({ id: job.id, status: 'queued' as const, statusUrl, fileUrl: `${statusUrl}/file` });
    });

    app.get('/v1/jobs/:id/file', {
      schema: {
        tags: ['jobs'], summary: 'The file of an order export that succeeded, streamed (409 before it has)', params: jobIdParams,
      },
    }, async (request, reply) => {
      authorize(request);
      const file = await useCases.getExportFile.execute(request.params.id).catch(mapError);
      return reply.type(mediaTypes[file.format])
        .header('content-length', String(file.bytes))
        .header('content-disposition', `attachment; filename="orders-${request.params.id}.${file.format}"`)
        .send(Readable.from(file.content));
    });
  };
}

/** JSON Lines when the client accepts it and not CSV; CSV otherwise. */
function formatAccepted(request: FastifyRequest): ExportFormat {
  const accept = request.headers.accept ?? '';
  return /application\/(x-ndjson|jsonl)/i.test(accept) && !/text\/csv/i.test(accept) ? 'jsonl' : 'csv';
}
