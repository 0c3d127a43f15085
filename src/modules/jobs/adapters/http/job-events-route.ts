import { PassThrough } from 'node:stream';
import { z } from 'zod';
import type { FastifyRequest } from 'fastify';
import type { HttpApp } from '../../../../platform/http/app.ts';
import { HttpProblem, notFound, problemSchema } from '../../../../platform/http/problem.ts';
import { FollowJob, type JobEvent } from '../../application/follow-job.ts';
import { JobNotFoundError } from '../../domain/job.errors.ts';
import { jobIdParams } from './job-dtos.ts';

/** Bounds of the job event streams of this process. */
export interface JobEventsOptions {
  /** Longest gap between two writes of a stream: a `: heartbeat` comment keeps proxies from closing an idle one. */
  heartbeatMs: number;
  /** Streams open at once in this process; one more is refused with 503 and Retry-After. */
  maxStreams: number;
  /** A stream ends after this long (the client resumes with Last-Event-ID). */
  maxLifetimeMs: number;
}

const problems = { 401: problemSchema, 403: problemSchema, 404: problemSchema, 503: problemSchema };

const eventStream = z.string().describe(
  'Server-Sent Events. Each event: `id` (only grows; send it back as Last-Event-ID to resume), `event` (`state`, `progress`, then `completed` or '
  + '`failed`, also for a cancelled job) and `data`, JSON `{ id, status, progress: { done, total }, counts: { created, updated, rejected } }`. '
  + 'Comment lines `: heartbeat` keep an idle stream open; the stream closes after the terminal event.',
);

/**
 * `GET /v1/jobs/{id}/events`: a job's progress as Server-Sent Events, read from the job's own record,
 * so it follows a job run by any process. The caller's check (`authorize`) and an unknown id are
 * answered before the stream starts; a job that ended no later than Last-Event-ID is answered 204,
 * which tells an EventSource to stop reconnecting.
 */
export function jobEventsRoute(followJob: FollowJob, authorize: (request: FastifyRequest) => void, options: JobEventsOptions) {
  const open = new Set<AbortController>();
  return (app: HttpApp): void => {
    // A stream would otherwise hold the process's shutdown until its lifetime ends; the client resumes elsewhere.
    app.addHook('preClose', (done) => {
      for (const stream of open) stream.abort();
      done();
    });
    app.get('/v1/jobs/:id/events', {
      schema: {
        tags: ['jobs'], summary: "A job's progress, status changes and final counts as Server-Sent Events (text/event-stream); Last-Event-ID resumes",
        params: jobIdParams,
        response: {
          200: { description: 'The event stream', content: { 'text/event-stream': { schema: eventStream } } },
          204: z.null().describe('The job ended no later than Last-Event-ID: nothing more will come'),
          ...problems,
        },
      },
    }, async (request, reply) => {
      authorize(request);
      const job = await followJob.current(request.params.id).catch((error: unknown) => {
        throw error instanceof JobNotFoundError ? notFound(error.message) : error;
      });
      const lastEventId = parseLastEventId(request.headers['last-event-id']);
      if (FollowJob.isSeenToItsEnd(job, lastEventId)) return reply.code(204).send(null);
      if (open.size >= options.maxStreams) {
        throw new HttpProblem({
          status: 503, slug: 'service-unavailable', title: 'Try again shortly',
          detail: 'Too many job event streams are open.', headers: { 'retry-after': '5' },
        });
      }
      const stream = new PassThrough();
      const stop = new AbortController();
      open.add(stop);
      const ended = () => { stop.abort(); };
      // The response's close (not the request's, which closes once its body is read) is the client leaving.
      reply.raw.once('close', ended);
      stream.once('close', ended);
      const lifetime = setTimeout(ended, options.maxLifetimeMs);
      const heartbeat = setInterval(() => { stream.write(': heartbeat\n\n'); }, options.heartbeatMs);
      void (async () => {
        try {
          for await (const event of followJob.events(job, { lastEventId, signal: stop.signal })) stream.write(formatEvent(event));
        } catch (error) {
          request.log.warn({ err: error }, 'job event stream stopped: the job could not be read');
        } finally {
          open.delete(stop);
          clearTimeout(lifetime);
          clearInterval(heartbeat);
          stream.end();
        }
      })();
      // No proxy may hold the events back: not by caching, not by buffering them (x-accel-buffering).
      return reply.code(200).type('text/event-stream; charset=utf-8')
        .header('cache-control', 'no-cache').header('x-accel-buffering', 'no')
        // Fastify pipes a stream as it is; the typed reply only knows the documented body, a string of events.
        .send(stream as unknown as string);
    });
  };
}

/** The id of the last event a reconnecting client saw; 0 (send the state now) when absent or not a number. */
function parseLastEventId(header: string | string[] | undefined): number {
  const value = Array.isArray(header) ? header[0] : header;
  const parsed = Number(value);
  return value !== undefined && Number.isSafeInteger(parsed) && parsed > 0 ? parsed : 0;
}

function formatEvent(event: JobEvent): string {
  const { job } = event;
  const data = { id: job.id, status: job.status, progress: { done: job.progress.done, total: job.progress.total }, counts: { ...job.counts } };
  return `id: ${event.id}\nevent: ${event.kind}\ndata: ${JSON.stringify(data)}\n\n`;
}
