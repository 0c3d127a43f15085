import { z } from 'zod';
import type { Database } from '../database/database.ts';
import type { HttpApp } from '../http/app.ts';
import { decodeCursor, encodeCursor } from '../http/cursor.ts';
import { invalidRequest, problemSchema } from '../http/problem.ts';
import { listAuditEntries, type AuditEntry } from './audit-trail.ts';

/** The path of one module's audit trail; the gateway sends it to that module's service. */
export const auditPath = (module: string) => `/v1/admin/${module}/audit`;

const entryDto = z.object({
  id: z.string(), module: z.string(), occurredAt: z.iso.datetime(),
  actor: z.object({ id: z.string(), email: z.string().nullable() }),
  action: z.string(), targetId: z.string(), clientAddress: z.string().nullable(), requestId: z.string().nullable(),
  before: z.unknown(), after: z.unknown(),
});

const filterText = z.string().min(1).max(200);
// Within the years a page cursor can carry (cursor.ts), and PostgreSQL stores without surprise.
const filterTime = z.iso.datetime({ offset: true }).refine((text) => {
  const year = new Date(text).getUTCFullYear();
  return year >= 1970 && year <= 9999;
}, 'must be a time from 1970 to 9999');

const auditQuery = z.strictObject({
  actor: filterText.optional().describe('Only acts of this principal id (`cli` for the command line)'),
  action: filterText.optional().describe('Only acts of this action, for example `catalog.price-changed`'),
  target: filterText.optional().describe('Only acts on this target id'),
  from: filterTime.optional().describe('Only acts at or after this time (RFC 3339)'),
  to: filterTime.optional().describe('Only acts before this time (RFC 3339)'),
  cursor: z.string().max(400).optional().describe('The nextCursor of the previous page'),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

// The cursor's id is an entry's id: a bigint written as decimal digits.
const entryIdPattern = /^[1-9]\d{0,17}$/;

/**
 * The admin route over `module`'s audit trail in `db`: newest first, filtered by actor, action,
 * target and time range, in cursor pages. Every process serves those of the modules it runs, so in
 * the services shape each service answers for the acts recorded in its own database.
 */
export function auditRoutes(db: Database, module: string) {
  return (app: HttpApp): void => {
    app.get(auditPath(module), {
      schema: {
        tags: ['operations'], summary: `Audit trail of the ${module} module's administrative acts (admin)`,
        querystring: auditQuery,
        response: { 200: z.object({ items: z.array(entryDto), nextCursor: z.string().nullable() }), 400: problemSchema },
      },
    }, async (request) => {
      const { actor, action, target, cursor, limit } = request.query;
      const from = request.query.from === undefined ? undefined : new Date(request.query.from);
      const to = request.query.to === undefined ? undefined : new Date(request.query.to);
      if (from !== undefined && to !== undefined && from >= to) {
        throw invalidRequest('`from` must be before `to`', [{ location: 'querystring', field: 'from', message: 'is not before to' }]);
      }
      const position = cursor === undefined ? undefined : decodeCursor(cursor);
      if (position !== undefined && !entryIdPattern.test(position.id)) {
        throw invalidRequest('The cursor is not valid; use the nextCursor of a previous page', [{ location: 'querystring', field: 'cursor', message: 'is not valid' }]);
      }
      const entries = await listAuditEntries(db, {
        module, limit,
        ...(actor === undefined ? {} : { actorId: actor }),
        ...(action === undefined ? {} : { action }),
        ...(target === undefined ? {} : { targetId: target }),
        ...(from === undefined ? {} : { from }),
        ...(to === undefined ? {} : { to }),
        ...(position === undefined ? {} : { after: { occurredAt: position.createdAt, id: position.id } }),
      });
      const last = entries.at(-1);
      return {
        items: entries.map(toDto),
        nextCursor: entries.length === limit && last !== undefined ? encodeCursor({ createdAt: last.occurredAt, id: last.id }) : null,
      };
    });
  };
}

function toDto(entry: AuditEntry) {
  return {
    id: entry.id, module: entry.module, occurredAt: entry.occurredAt.toISOString(),
    actor: { id: entry.actorId, email: entry.actorEmail },
    action: entry.action, targetId: entry.targetId, clientAddress: entry.clientAddress, requestId: entry.requestId,
    before: entry.before ?? null, after: entry.after ?? null,
  };
}
