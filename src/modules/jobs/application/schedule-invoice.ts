import { newJob } from '../domain/job.ts';
import type { JobSubmitter } from './ports.ts';

/** The confirmed order an invoice is drawn from, as the orders module announced it. */
export interface ConfirmedOrder {
  orderId: string;
  customer: { id: string; email: string };
  lines: { sku: string; name: string; quantity: number; unitPrice: { amount: number; currency: string }; lineTotal: { amount: number; currency: string } }[];
  total: { amount: number; currency: string };
  confirmedAt: string;
}

/** Queues the invoice job of a confirmed order; an order gets one invoice job however often it is announced. */
export class ScheduleInvoice {
  readonly #jobs: JobSubmitter;
  readonly #newId: () => string;
  readonly #now: () => Date;

  constructor(deps: { jobs: JobSubmitter; newId?: () => string; now?: () => Date }) {
    this.#jobs = deps.jobs;
    this.#newId = deps.newId ?? (() => `job_${crypto.randomUUID()}`);
    this.#now = deps.now ?? (() => new Date());
  }

  /** True when a job was queued, false when the order had one already. */
  async execute(order: ConfirmedOrder, requestId: string | null): Promise<boolean> {
    const job = newJob({
      id: this.#newId(), kind: 'invoice', requestId, subject: order.orderId,
      input: { ...order }, now: this.#now(),
    });
    return this.#jobs.submit(job);
  }
}
