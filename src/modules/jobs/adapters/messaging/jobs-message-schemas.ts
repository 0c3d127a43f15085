import { z } from 'zod';
import { ordersEvents, type OrderConfirmedV1 } from '../../../orders/contract.ts';
import { jobsEvents, type JobCompletedV1, type JobFailedV1 } from '../../contract.ts';

// The messages of jobs with their payload schemas: read by the invoice consumer and by the AsyncAPI
// document (src/apps/asyncapi.ts).

const money = z.object({ amount: z.int(), currency: z.string().length(3) });

// Typed against the orders contract, so a change there that this schema misses fails to compile.
export const orderConfirmed: z.ZodType<OrderConfirmedV1> = z.object({
  orderId: z.string().min(1),
  customer: z.object({ id: z.string().min(1), email: z.string().min(3) }),
  lines: z.array(z.object({ sku: z.string(), name: z.string(), quantity: z.int(), unitPrice: money, lineTotal: money })),
  total: money,
  confirmedAt: z.string(),
});

// What jobs writes when a job ends. No module consumes these, so the schemas are the publisher's,
// typed against its contract.

export const jobCompleted: z.ZodType<JobCompletedV1> = z.object({
  jobId: z.string().min(1),
  kind: z.string().min(1),
  subject: z.string().nullable(),
  counts: z.object({ created: z.int().min(0), updated: z.int().min(0), rejected: z.int().min(0) }),
  finishedAt: z.string(),
});

export const jobFailed: z.ZodType<JobFailedV1> = z.object({
  jobId: z.string().min(1),
  kind: z.string().min(1),
  subject: z.string().nullable(),
  status: z.enum(['failed', 'cancelled']),
  reason: z.string(),
  finishedAt: z.string(),
});

/** What `jobs.invoice-on-confirmation` reads. */
export const invoiceOnConfirmationSubscription = {
  consumer: 'jobs.invoice-on-confirmation',
  reads: [{ message: ordersEvents.confirmed, payload: orderConfirmed }],
} as const;

/** The invoice consumer, and the job outcomes jobs sends. */
export const jobsMessageSchemas = {
  consumers: [invoiceOnConfirmationSubscription],
  sends: [
    { message: jobsEvents.completed, payload: jobCompleted },
    { message: jobsEvents.failed, payload: jobFailed },
  ],
};
