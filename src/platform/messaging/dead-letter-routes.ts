import { z } from 'zod';
import type { Database } from '../database/database.ts';
import type { HttpApp } from '../http/app.ts';
import { notFound, problemSchema } from '../http/problem.ts';
import { listDeadLetters, replayDeadLetter } from './dead-letters.ts';

/** The paths of one module's dead letters; the gateway sends them to that module's service. */
export const deadLetterPaths = (module: string) => ({
  list: `/v1/admin/${module}/dead-letters`,
  replay: `/v1/admin/${module}/dead-letters/:id/replay`,
});

const deadLetterDto = z.object({
  id: z.number(), consumer: z.string(), messageId: z.string(), type: z.string(), key: z.string(),
  attempts: z.number(), lastError: z.string(), failedAt: z.iso.datetime(),
  payload: z.unknown().describe('The payload of the message as it was delivered, to judge before replaying it.'),
});

/**
 * Admin routes over the dead letters of `module`'s consumers in `db`: list them (oldest first,
 * `?after=<id>` to page) and replay one (a fresh set of attempts, due now). Every process serves
 * those of the modules it runs, so in the services shape each service answers for its own database.
 */
export function deadLetterRoutes(db: Database, module: string) {
  const paths = deadLetterPaths(module);
  return (app: HttpApp): void => {
    app.get(paths.list, {
      schema: {
        tags: ['operations'], summary: `Dead letters of the ${module} consumers (admin)`,
        querystring: z.strictObject({ after: z.coerce.number().int().min(0).optional(), limit: z.coerce.number().int().min(1).max(200).default(50) }),
        response: { 200: z.object({ items: z.array(deadLetterDto), nextAfter: z.number().nullable() }), 400: problemSchema },
      },
    }, async (request) => {
      const letters = await listDeadLetters(db, { limit: request.query.limit, module, ...(request.query.after === undefined ? {} : { after: request.query.after }) });
      return {
        items: letters.map((letter) => ({
          id: letter.id, consumer: letter.consumer, messageId: letter.messageId, type: letter.envelope.type, key: letter.envelope.key,
          attempts: letter.attempts, lastError: letter.lastError, failedAt: letter.failedAt.toISOString(), payload: letter.envelope.payload,
        })),
        nextAfter: letters.length === request.query.limit ? (letters.at(-1)?.id ?? null) : null,
      };
    });

    app.post(paths.replay, {
      schema: {
        tags: ['operations'], summary: `Replay one dead letter of the ${module} consumers (admin)`,
        params: z.object({ id: z.coerce.number().int().min(1) }),
        response: { 202: z.object({ id: z.number(), replayed: z.literal(true) }), 400: problemSchema, 404: problemSchema },
      },
    }, async (request, reply) => {
      if (!await replayDeadLetter(db, request.params.id, { module, audited: true })) throw notFound(`No open dead letter ${request.params.id} of the ${module} consumers`);
      return reply.status(202).send({ id: request.params.id, replayed: true as const });
    });
  };
}
