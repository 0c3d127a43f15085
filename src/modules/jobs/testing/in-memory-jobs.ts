import type { ChunkOutcome, JobCursor, JobPage, JobProgress, JobRepository, JobSubmitter, ProductCatalog, StockLevels } from '../application/ports.ts';
import type { ImportRow } from '../domain/import-row.ts';
import { isFinished, type Job, type RowError } from '../domain/job.ts';

/** Job records (and their queue) in memory, for use-case tests. */
export class InMemoryJobs implements JobRepository, JobSubmitter {
  readonly jobs = new Map<string, Job>();
  readonly errors = new Map<string, RowError[]>();
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

  saveProgress(id: string, progress: JobProgress, now: Date): Promise<boolean> {
    const job = this.#get(id);
    if (job.status !== 'running') return Promise.resolve(false);
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

/**
 * The catalogue and stock as an import leaves them, keyed by SKU. Like the real modules, a chunk is
 * applied whole or not at all and answered by its key when sent again; `failAfter` simulates a crash
 * in a chunk that would take the upserts past that many (nothing of it is applied).
 */
export class InMemoryCatalogAndStock implements ProductCatalog, StockLevels {
  readonly products = new Map<string, { name: string; description: string; price: { amount: number; currency: string } }>();
  readonly stock = new Map<string, number>();
  readonly #appliedProducts = new Map<string, ChunkOutcome<'created' | 'updated'>[]>();
  readonly #appliedStock = new Map<string, ChunkOutcome<'set'>[]>();
  upserts = 0;
  failAfter = Number.POSITIVE_INFINITY;

  upsertAll(key: string, rows: readonly ImportRow[]): Promise<ChunkOutcome<'created' | 'updated'>[]> {
    const applied = this.#appliedProducts.get(key);
    if (applied !== undefined) return Promise.resolve(applied);
    if (this.upserts + rows.length > this.failAfter) return Promise.reject(new Error('simulated crash: the worker died'));
    const outcomes = rows.map((row): 'created' | 'updated' => {
      this.upserts += 1;
      const created = !this.products.has(row.sku);
      this.products.set(row.sku, { name: row.name, description: row.description, price: { ...row.price } });
      return created ? 'created' : 'updated';
    });
    this.#appliedProducts.set(key, outcomes);
    return Promise.resolve(outcomes);
  }

  setAll(key: string, levels: readonly { sku: string; onHand: number }[]): Promise<ChunkOutcome<'set'>[]> {
    const applied = this.#appliedStock.get(key);
    if (applied !== undefined) return Promise.resolve(applied);
    for (const level of levels) this.stock.set(level.sku, level.onHand);
    const outcomes = levels.map((): 'set' => 'set');
    this.#appliedStock.set(key, outcomes);
    return Promise.resolve(outcomes);
  }
}
