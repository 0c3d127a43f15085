/** A document job as `GET /v1/jobs/{id}` answers it, in the parts the benchmark reads. */
export interface JobView {
  id: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  progress: { done: number; total: number | null };
  counts: { created: number; updated: number; rejected: number };
  attempts: number;
  lastError: string | null;
}

/** What `followJob` saw: the job as it ended and when (milliseconds on `performance.now()`'s clock). */
export interface FollowedJob {
  job: JobView;
  endedAt: number;
  polls: number;
}

/** Why a job that ended did not succeed, in a sentence naming the scenario; undefined when it succeeded. */
export function jobFailure(scenario: string, job: JobView): string | undefined {
  if (job.status === 'succeeded') return undefined;
  const why = job.lastError === null ? '' : `: ${job.lastError}`;
  return `${scenario}: job ${job.id} ended ${job.status} after ${job.attempts} attempts at ${job.progress.done} of ${job.progress.total ?? '?'} rows${why}`;
}

/**
 * Polls `GET {statusUrl}` as the admin every `pollMs` (default 100) until the job ends; throws when it
 * failed, was cancelled, did not end within `timeoutMs` (default 15 minutes), or a poll was not answered 200. Each poll is one cheap
 * read through the edge.
 */
export async function followJob(options: {
  scenario: string; baseUrl: string; token: string; statusUrl: string; pollMs?: number; timeoutMs?: number;
}): Promise<FollowedJob> {
  const { scenario, baseUrl, token, statusUrl, pollMs = 100, timeoutMs = 15 * 60_000 } = options;
  const giveUpAt = performance.now() + timeoutMs;
  for (let polls = 1; ; polls += 1) {
    const response = await fetch(`${baseUrl}${statusUrl}`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) });
    const body = await response.text();
    if (response.status !== 200) throw new Error(`${scenario}: GET ${statusUrl} answered ${response.status}: ${body.slice(0, 300)}`);
    const job = JSON.parse(body) as JobView;
    const endedAt = performance.now();
    if (job.status !== 'queued' && job.status !== 'running') {
      const failure = jobFailure(scenario, job);
      if (failure !== undefined) throw new Error(failure);
      return { job, endedAt, polls };
    }
    if (endedAt > giveUpAt) {
      throw new Error(`${scenario}: job ${job.id} still ${job.status} after ${Math.round(timeoutMs / 1000)} s, at ${job.progress.done} of ${job.progress.total ?? '?'} rows`);
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/**
 * Counts the records of a streamed export, chunk by chunk: lines of JSON Lines (a line break inside
 * a JSON string is escaped), or CSV records, whose quoted cells may hold line breaks that end no
 * record (a doubled quote inside a cell toggles twice and changes nothing). A last record without
 * its line break counts too.
 */
export class RecordCounter {
  readonly #quoted: boolean;
  #records = 0;
  #inQuotes = false;
  #openRecord = false;

  constructor(format: 'csv' | 'jsonl') {
    this.#quoted = format === 'csv';
  }

  add(chunk: Uint8Array): void {
    const quote = 0x22;
    const lineFeed = 0x0a;
    for (const byte of chunk) {
      if (this.#quoted && byte === quote) this.#inQuotes = !this.#inQuotes;
      if (byte === lineFeed && !this.#inQuotes) {
        this.#records += 1;
        this.#openRecord = false;
      } else {
        this.#openRecord = true;
      }
    }
  }

  get records(): number {
    return this.#records + (this.#openRecord ? 1 : 0);
  }
}

/** A rate per second, 0 when no time passed. */
export function perSecond(count: number, seconds: number): number {
  return seconds > 0 ? count / seconds : 0;
}

/** This process's memory in megabytes, as `process.memoryUsage()` splits it. */
export interface MemoryBreakdown {
  rssMb: number;
  heapTotalMb: number;
  heapUsedMb: number;
  externalMb: number;
  arrayBuffersMb: number;
}

/**
 * This process's memory at its highest RSS over a window, split into V8's heap (reserved and used)
 * and memory outside it, sampled every `intervalMs`: whether a peak is live data or a heap grown
 * lazily. The benchmark runs it inside OrderStream's process (bench/orderstream-probe-preload.ts).
 */
export class MemoryPeak {
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #peak: NodeJS.MemoryUsage | undefined;

  constructor(intervalMs = 250) {
    this.#intervalMs = intervalMs;
  }

  start(): void {
    this.#peak = undefined;
    this.#sample();
    this.#timer = setInterval(() => { this.#sample(); }, this.#intervalMs);
    this.#timer.unref();
  }

  stop(): MemoryBreakdown {
    clearInterval(this.#timer);
    this.#sample();
    return breakdownOf(this.#peak ?? process.memoryUsage());
  }

  #sample(): void {
    const now = process.memoryUsage();
    if (this.#peak === undefined || now.rss > this.#peak.rss) this.#peak = now;
  }
}

/** `process.memoryUsage()` in megabytes with one decimal. */
export function breakdownOf(usage: NodeJS.MemoryUsage): MemoryBreakdown {
  const mb = (bytes: number) => Math.round(bytes / 1024 / 102.4) / 10;
  return { rssMb: mb(usage.rss), heapTotalMb: mb(usage.heapTotal), heapUsedMb: mb(usage.heapUsed), externalMb: mb(usage.external), arrayBuffersMb: mb(usage.arrayBuffers) };
}
