import type { JobCursor, JobPage, JobProgress, JobRepository, JobSubmitter, ProductCatalog, StockLevels } from '../application/ports.ts';
import type { ImportRow } from '../domain/import-row.ts';
import { isFinished, type Job, type RowError } from '../domain/job.ts';

/** Job records (and their queue) in memory, for use-case tests. */
export class InMemoryJobs implements JobRepository, JobSubmitter {
  readonly jobs = new Map<string, Job>();
  readonly errors = new Map<string, RowError[]>();
  readonly newSkus = new Map<string, Set<string>>();
  readonly queued: string[] = [];
  readonly withdrawn: string[] = [];

  findById(id: string): Promise<Job | undefined> {
    return Promise.resolve(this.jobs.get(id));
  }

  list(query: { after?: JobCursor; limit: number }): Promise<JobPage> {
    const after = query.after;
    const sorted = [...this.jobs.values()]
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : -1))
      .filter((job) => after === undefined || job.createdAt < after.createdAt || (job.createdAt.getTime() === after.createdAt.getTime() && job.id < after.id));
    const items = sorted.slice(0, query.limit);
    const last = items.at(-1);
    return Promise.resolve({ items, next: sorted.length > query.limit && last !== undefined ? { createdAt: last.createdAt, id: last.id } : null });
  }

  rowErrors(jobId: string): Promise<RowError[]> {
    return Promise.resolve([...(this.errors.get(jobId) ?? [])].sort((a, b) => a.line - b.line));
  }

  startAttempt(id: string, now: Date): Promise<Job | undefined> {
    const job = this.jobs.get(id);
    if (job === undefined || isFinished(job.status)) return Promise.resolve(job);
    return Promise.resolve(this.#set({ ...job, status: 'running', attempts: job.attempts + 1, startedAt: job.startedAt ?? now, updatedAt: now }));
  }

  setTotal(id: string, total: number): Promise<void> {
    const job = this.#get(id);
    this.#set({ ...job, progress: { ...job.progress, total } });
    return Promise.resolve();
  }

  recordNewSkus(id: string, skus: readonly string[]): Promise<ReadonlySet<string>> {
    const recorded = this.newSkus.get(id) ?? new Set<string>();
    for (const sku of skus) recorded.add(sku);
    this.newSkus.set(id, recorded);
    return Promise.resolve(new Set(recorded));
  }

  saveProgress(id: string, progress: JobProgress, now: Date): Promise<boolean> {
    const job = this.#get(id);
    if (job.status !== 'running') return Promise.resolve(false);
    this.newSkus.delete(id);
    this.#set({ ...job, checkpoint: progress.checkpoint, progress: { ...job.progress, done: progress.done }, counts: progress.counts, updatedAt: now });
    const kept = this.errors.get(id) ?? [];
    for (const error of progress.newErrors) if (!kept.some((existing) => existing.line === error.line)) kept.push(error);
    this.errors.set(id, kept);
    return Promise.resolve(true);
  }

  finish(id: string, outcome: { status: 'succeeded' } | { status: 'failed'; reason: string }, now: Date): Promise<boolean> {
    const job = this.#get(id);
    if (isFinished(job.status)) return Promise.resolve(false);
    this.#set({ ...job, status: outcome.status, finishedAt: now, updatedAt: now, ...(outcome.status === 'failed' ? { lastError: outcome.reason } : {}) });
    return Promise.resolve(true);
  }

  recordFailedAttempt(id: string, reason: string, now: Date): Promise<void> {
    const job = this.#get(id);
    if (job.status === 'running') this.#set({ ...job, status: 'queued', lastError: reason, updatedAt: now });
    return Promise.resolve();
  }

  cancel(id: string, now: Date): Promise<Job | undefined> {
    const job = this.jobs.get(id);
    if (job === undefined || isFinished(job.status)) return Promise.resolve(job);
    return Promise.resolve(this.#set({ ...job, status: 'cancelled', finishedAt: now, updatedAt: now }));
  }

  submit(job: Job): Promise<void> {
    this.jobs.set(job.id, job);
    this.queued.push(job.id);
    return Promise.resolve();
  }

  withdraw(job: Job): Promise<void> {
    this.withdrawn.push(job.id);
    return Promise.resolve();
  }

  #get(id: string): Job {
    const job = this.jobs.get(id);
    if (job === undefined) throw new Error(`no job ${id}`);
    return job;
  }

  #set(job: Job): Job {
    this.jobs.set(job.id, job);
    return job;
  }
}

/** The catalogue and stock as an import leaves them, keyed by SKU; `failAfter` simulates a crash after that many upserts. */
export class InMemoryCatalogAndStock implements ProductCatalog, StockLevels {
  readonly products = new Map<string, { name: string; description: string; price: { amount: number; currency: string } }>();
  readonly stock = new Map<string, number>();
  upserts = 0;
  failAfter = Number.POSITIVE_INFINITY;

  existing(skus: readonly string[]): Promise<ReadonlySet<string>> {
    return Promise.resolve(new Set(skus.filter((sku) => this.products.has(sku))));
  }

  upsert(row: ImportRow): Promise<'created' | 'updated'> {
    if (this.upserts >= this.failAfter) return Promise.reject(new Error('simulated crash: the worker died'));
    this.upserts += 1;
    const created = !this.products.has(row.sku);
    this.products.set(row.sku, { name: row.name, description: row.description, price: { ...row.price } });
    return Promise.resolve(created ? 'created' : 'updated');
  }

  set(sku: string, onHand: number): Promise<'set'> {
    this.stock.set(sku, onHand);
    return Promise.resolve('set');
  }
}
