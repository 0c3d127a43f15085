export { currentActor, runAsActor, type Actor } from './audit-context.ts';
export { listAuditEntries, recordAdminAct, type AdminAct, type AuditEntry, type AuditQuery } from './audit-trail.ts';
export { auditPath, auditRoutes } from './audit-routes.ts';

/** The audit trail of administrative acts lives in its own schema, in every module's database. */
export const auditMigrations = { module: 'audit', schema: 'audit', directory: new URL('./migrations/', import.meta.url) };
