import { auditedModules } from '../../../../src/apps/module-registry.ts';
import type { BurstKit, RouteBurst } from './burst-kit.ts';
import { deadDeliveryIds, deadEmailDeliveryIds, importUpload, jobIds, webhookIds } from './fixture-pools.ts';

/** Catalogue uploads and order exports, and the jobs they start. */
export function documentJobBursts({ fixtureOf, simple }: BurstKit): RouteBurst[] {
  const exports: string[] = [];
  return [
    {
      ...simple('POST /v1/exports/orders', [202], ({ admin }, index) => ({
        method: 'POST', path: '/v1/exports/orders', token: admin, json: index % 2 === 0 ? {} : { format: 'jsonl', status: 'CONFIRMED' },
      })),
      keep: (answers) => {
        for (const answer of answers) if (answer.status === 202) exports.push((JSON.parse(answer.text) as { id: string }).id);
      },
    },
    {
      // Small exports: most have succeeded by now (200); one still queued or running answers 409.
      route: 'GET /v1/jobs/:id/file', expected: [200, 409],
      requests: (count) => Promise.resolve(Array.from({ length: count }, (_, index) => ({
        method: 'GET' as const, path: `/v1/jobs/${exports[index % Math.max(1, exports.length)] ?? 'none'}/file`, token: fixtureOf().admin,
      }))),
    },
    {
      ...simple('POST /v1/imports', [202], ({ admin }, index) => ({ method: 'POST', path: '/v1/imports', token: admin, body: importUpload(index) })),
      keep: (answers) => {
        for (const answer of answers) if (answer.status === 202) fixtureOf().jobIds.push((JSON.parse(answer.text) as { id: string }).id);
      },
    },
    simple('GET /v1/jobs', [200], ({ admin }, index) => ({ method: 'GET', path: `/v1/jobs?limit=${String(1 + index)}`, token: admin })),
    {
      route: 'GET /v1/jobs/:id', expected: [200],
      requests: async (count) => (await jobIds(fixtureOf(), count)).map((id) => ({ method: 'GET', path: `/v1/jobs/${id}`, token: fixtureOf().admin })),
    },
    {
      route: 'GET /v1/jobs/:id/errors.csv', expected: [200],
      requests: async (count) => (await jobIds(fixtureOf(), count)).map((id) => ({ method: 'GET', path: `/v1/jobs/${id}/errors.csv`, token: fixtureOf().admin })),
    },
    {
      // Most uploads have finished by now (409); the ones still queued or running are cancelled.
      route: 'POST /v1/jobs/:id/cancel', expected: [200, 409],
      requests: async (count) => (await jobIds(fixtureOf(), count)).map((id) => ({ method: 'POST', path: `/v1/jobs/${id}/cancel`, token: fixtureOf().admin })),
    },
    {
      // After the cancellations every job has ended, so each stream sends the terminal event and closes.
      route: 'GET /v1/jobs/:id/events', expected: [200],
      requests: async (count) => (await jobIds(fixtureOf(), count)).map((id) => ({ method: 'GET', path: `/v1/jobs/${id}/events`, token: fixtureOf().admin })),
    },
  ];
}

/** Webhook endpoints, audit trails and the retry of dead webhook and email deliveries. */
export function notificationAdminBursts({ fixtureOf, simple }: BurstKit): RouteBurst[] {
  return [
    {
      ...simple('POST /v1/admin/webhooks', [201], ({ admin, deadWebhookUrl }, index) => ({
        method: 'POST', path: '/v1/admin/webhooks', token: admin, json: { url: `${deadWebhookUrl}?endpoint=${String(index)}`, events: ['orders.cancelled'] },
      })),
      keep: (answers) => {
        for (const answer of answers) if (answer.status === 201) fixtureOf().webhookIds.push((JSON.parse(answer.text) as { id: string }).id);
      },
    },
    ...auditedModules.map((module) => simple(`GET /v1/admin/${module}/audit`, [200], ({ admin }, index) => ({
      method: 'GET', path: [`/v1/admin/${module}/audit`, `/v1/admin/${module}/audit?limit=${String(1 + index)}`][index % 2] ?? '', token: admin,
    }))),
    simple('GET /v1/admin/webhooks', [200], ({ admin }, index) => ({ method: 'GET', path: `/v1/admin/webhooks?limit=${String(1 + index)}`, token: admin })),
    {
      // The endpoints stay for the deletions below.
      route: 'POST /v1/admin/webhooks/:id/secret/roll', expected: [200],
      requests: async (count) => {
        const ids = await webhookIds(fixtureOf(), count);
        fixtureOf().webhookIds.push(...ids);
        return ids.map((id) => ({ method: 'POST', path: `/v1/admin/webhooks/${id}/secret/roll`, token: fixtureOf().admin, json: { overlapSeconds: 60 } }));
      },
    },
    {
      route: 'DELETE /v1/admin/webhooks/:id', expected: [204],
      requests: async (count) => (await webhookIds(fixtureOf(), count)).map((id) => ({ method: 'DELETE', path: `/v1/admin/webhooks/${id}`, token: fixtureOf().admin })),
    },
    simple('GET /v1/admin/webhook-deliveries', [200], ({ admin }, index) => ({
      method: 'GET', path: ['/v1/admin/webhook-deliveries', '/v1/admin/webhook-deliveries?status=dead', `/v1/admin/webhook-deliveries?limit=${String(1 + index)}`][index % 3] ?? '',
      token: admin,
    })),
    {
      route: 'POST /v1/admin/webhook-deliveries/:id/retry', expected: [202],
      requests: async (count) => (await deadDeliveryIds(fixtureOf(), count)).map((id) => ({
        method: 'POST', path: `/v1/admin/webhook-deliveries/${id}/retry`, token: fixtureOf().admin,
      })),
    },
    simple('GET /v1/admin/email-deliveries', [200], ({ admin }, index) => ({
      method: 'GET', path: ['/v1/admin/email-deliveries', '/v1/admin/email-deliveries?status=dead', `/v1/admin/email-deliveries?limit=${String(1 + index)}`][index % 3] ?? '',
      token: admin,
    })),
    {
      route: 'POST /v1/admin/email-deliveries/:id/retry', expected: [202],
      requests: async (count) => (await deadEmailDeliveryIds(fixtureOf(), count)).map((id) => ({
        method: 'POST', path: `/v1/admin/email-deliveries/${id}/retry`, token: fixtureOf().admin,
      })),
    },
  ];
}

/** Payment operations, and the retry of each failed one. */
export function paymentAdminBursts({ fixtureOf, simple }: BurstKit): RouteBurst[] {
  return [
    simple('GET /v1/admin/payment-operations', [200], ({ admin }, index) => ({
      method: 'GET', path: ['/v1/admin/payment-operations', '/v1/admin/payment-operations?status=pending', `/v1/admin/payment-operations?status=failed&limit=${String(1 + index)}`][index % 3] ?? '',
      token: admin,
    })),
    {
      route: 'POST /v1/admin/payment-operations/:id/retry', expected: [202],
      requests: (count) => Promise.resolve(fixtureOf().failedPaymentOperations.splice(0, count).map((id) => ({
        method: 'POST', path: `/v1/admin/payment-operations/${String(id)}/retry`, token: fixtureOf().admin,
      }))),
    },
  ];
}
